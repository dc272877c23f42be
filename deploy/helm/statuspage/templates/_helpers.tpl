{{- define "statuspage.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "statuspage.secretName" -}}{{ .Values.existingSecret | default (printf "%s-variables" .Release.Name) }}{{- end -}}
{{- define "statuspage.labels" -}}
app.kubernetes.io/name: statuspage
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- /* The variables the app cannot start without: from existingSecret, or given in secrets. */ -}}
{{- define "statuspage.requireSecrets" -}}
{{- if not .Values.existingSecret -}}
{{- range $key := list "db_url" "db_host" "jwt_secret" -}}
{{- if not (index $.Values.secrets $key) -}}
{{- fail (printf "secrets.%s is required (or name a Secret holding it with existingSecret)" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
