{{- define "statuspage.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "statuspage.secretName" -}}{{ .Values.existingSecret | default (printf "%s-variables" .Release.Name) }}{{- end -}}
{{- define "statuspage.labels" -}}
app.kubernetes.io/name: statuspage
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
