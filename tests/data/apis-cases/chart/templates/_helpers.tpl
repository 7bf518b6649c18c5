{{- define "demo.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "demo.fullname" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
{{- define "demo.other" -}}other{{- end -}}
{{- define "t.fullname" -}}{{ .Release.Name }}-t{{- end -}}
