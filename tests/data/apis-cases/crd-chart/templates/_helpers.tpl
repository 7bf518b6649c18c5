{{- define "crds.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "crds.labels" -}}
app: {{ include "crds.name" . }}
release: {{ .Release.Name | quote }}
{{- end -}}
