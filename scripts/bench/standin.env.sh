# Sourced by the scripts that serve the app against the loopback stand-in
# (scripts/bench/standin.py: `make bench-notify`, `make contract`). Points e-mail (SendGrid's
# API), Telegram and webhook channels at the stand-in whose base URL is $standin.
export SPIN_VARIABLE_EMAIL_PROVIDER=sendgrid
export SPIN_VARIABLE_EMAIL_API_BASE_URL="$standin"
export SPIN_VARIABLE_EMAIL_API_KEY="standin-key"
export SPIN_VARIABLE_EMAIL_FROM="Stand-in Status <status@standin.test>"
export SPIN_VARIABLE_TELEGRAM_BOT_TOKEN="1:STANDIN"
export SPIN_VARIABLE_TELEGRAM_API_BASE_URL="$standin"
export SPIN_VARIABLE_TELEGRAM_BOT_USERNAME="standin_bot"
export SPIN_VARIABLE_TELEGRAM_WEBHOOK_SECRET="standin-telegram-secret"
export SPIN_VARIABLE_WEBHOOK_ALLOWED_HOSTS="$standin"
