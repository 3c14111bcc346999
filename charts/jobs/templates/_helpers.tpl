{{/* Names, labels and the pieces every Deployment shares. */}}

{{- define "jobs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or only the release name when it already contains the chart name. */}}
{{- define "jobs.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "jobs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of one component's objects: jobs.componentName (dict "root" $ "component" "api") */}}
{{- define "jobs.componentName" -}}
{{- printf "%s-%s" (include "jobs.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{/* Selector labels: immutable, so no version in them. Call with (dict "root" $ "component" "api"). */}}
{{- define "jobs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobs.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "jobs.labels" -}}
helm.sh/chart: {{ include "jobs.chart" .root }}
{{ include "jobs.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: nchat-jobs
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of objects that belong to no single component (ConfigMap, Secret, Ingress...). */}}
{{- define "jobs.commonLabels" -}}
helm.sh/chart: {{ include "jobs.chart" . }}
app.kubernetes.io/name: {{ include "jobs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: nchat-jobs
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "jobs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jobs.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "jobs.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "jobs.secretName" -}}
{{- default (include "jobs.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "jobs.redisHost" -}}
{{- if .Values.redis.enabled }}
{{- include "jobs.componentName" (dict "root" . "component" "redis") }}
{{- else }}
{{- .Values.externalRedis.host }}
{{- end }}
{{- end }}

{{/*
How the services reach Redis: "bundled", "url" (JOBS_REDIS_URL from the Secret) or "host".
Also where the configuration mistakes are caught, with a message that says what to change.
*/}}
{{- define "jobs.redisMode" -}}
{{- $ext := .Values.externalRedis }}
{{- if .Values.redis.enabled }}
{{- if or $ext.url $ext.host }}
{{- fail "redis.enabled=true and externalRedis.url/host are both set: set redis.enabled=false to use an external Redis, or clear externalRedis" }}
{{- end }}
{{- print "bundled" }}
{{- else if and $ext.url $ext.host }}
{{- fail "externalRedis.url and externalRedis.host are both set: give one (a URL overrides host, port, db and password)" }}
{{- else if $ext.url }}
{{- if .Values.auth.existingSecret }}
{{- fail (printf "externalRedis.url is not used with auth.existingSecret: put the URL in that Secret under key %q and clear externalRedis.url" .Values.auth.secretKeys.redisUrl) }}
{{- end }}
{{- if not (regexMatch "^rediss?://" $ext.url) }}
{{- fail "externalRedis.url must start with redis:// or rediss://" }}
{{- end }}
{{- print "url" }}
{{- else if $ext.host }}
{{- print "host" }}
{{- else if .Values.auth.existingSecret }}
{{- print "url" }}
{{- else }}
{{- fail "redis.enabled=false needs externalRedis.url or externalRedis.host (or auth.existingSecret holding the URL)" }}
{{- end }}
{{- end }}

{{/* A Secret value: the one given, else the one already in the cluster, else a random one. */}}
{{- define "jobs.secretValue" -}}
{{- $given := .value }}
{{- if $given }}
{{- $given }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "jobs.fullname" .root) }}
{{- $old := dig "data" .key "" ($existing | default dict) }}
{{- if $old }}
{{- $old | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Whether a Redis password is handed to the services, and whether it must exist. */}}
{{- define "jobs.redisPasswordRef" -}}
{{- $mode := include "jobs.redisMode" . }}
{{- if eq $mode "bundled" }}required
{{- else if and (eq $mode "host") .Values.auth.existingSecret }}optional
{{- else if and (eq $mode "host") .Values.auth.redisPassword }}required
{{- end }}
{{- end }}

{{/* The env entries every service gets: Redis connection secrets (the rest is in the ConfigMap). */}}
{{- define "jobs.secretEnv" -}}
{{- $secret := include "jobs.secretName" . }}
{{- $mode := include "jobs.redisMode" . -}}
{{- if eq $mode "url" }}
- name: JOBS_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.auth.secretKeys.redisUrl }}
{{- end }}
{{- $pw := include "jobs.redisPasswordRef" . }}
{{- if $pw }}
- name: JOBS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.auth.secretKeys.redisPassword }}
      {{- if eq $pw "optional" }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/* The workers' target credentials, from the Secret: those given in auth.*, or every one (optional)
     from auth.existingSecret. */}}
{{- define "jobs.targetSecretEnv" -}}
{{- $secret := include "jobs.secretName" . }}
{{- $auth := .Values.auth }}
{{- $vars := dict "JOBS_DATABASE_URL" "databaseUrl" "JOBS_SMTP_URL" "smtpUrl" "JOBS_NOTIFICATIONS_API_KEY" "notificationsApiKey" "JOBS_BACKUP_S3_ACCESS_KEY" "backupS3AccessKey" "JOBS_BACKUP_S3_SECRET_KEY" "backupS3SecretKey" }}
{{- range $var, $key := $vars }}
{{- if or $auth.existingSecret (index $auth $key) }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index $auth.secretKeys $key }}
      {{- if $auth.existingSecret }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The workers' target settings that are not secret (worker.targets); empty ones are left out. */}}
{{- define "jobs.targetEnv" -}}
{{- $t := .Values.worker.targets }}
{{- $vars := dict "JOBS_NOTIFICATIONS_URL" $t.notificationsUrl "JOBS_NOTIFICATIONS_PATH" $t.notificationsPath "JOBS_SMTP_FROM" $t.smtpFrom "JOBS_BACKUP_DIR" $t.backupDir "JOBS_BACKUP_S3_BUCKET" $t.backupS3Bucket "JOBS_BACKUP_S3_PREFIX" $t.backupS3Prefix "JOBS_BACKUP_S3_ENDPOINT" $t.backupS3Endpoint "JOBS_BACKUP_S3_REGION" $t.backupS3Region }}
{{- range $var, $value := $vars }}
{{- if $value }}
- name: {{ $var }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Plain JOBS_* env entries from a map (component "env"), sorted for a stable output. */}}
{{- define "jobs.plainEnv" -}}
{{- include "jobs.noSecrets" . }}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Refuse secrets in a plain variable map (config.extra, <service>.env). */}}
{{- define "jobs.noSecrets" -}}
{{- range $k, $v := . }}
{{- if has $k (list "JOBS_REDIS_PASSWORD" "JOBS_REDIS_URL" "JOBS_DASHBOARD_PASSWORD" "JOBS_API_TOKEN" "JOBS_DATABASE_URL" "JOBS_SMTP_URL" "JOBS_NOTIFICATIONS_API_KEY" "JOBS_BACKUP_S3_ACCESS_KEY" "JOBS_BACKUP_S3_SECRET_KEY" "JOBS_JOB_TOKEN_SECRET") }}
{{- fail (printf "%s is a secret and may not be a plain value (config.extra or <service>.env): set it through auth.* or auth.existingSecret" $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level annotations: checksums roll the pods when configuration or secrets change. */}}
{{- define "jobs.podAnnotations" -}}
{{- $root := .root -}}
checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
{{- /* From the inputs, not the rendered Secret: generated passwords would change it on every render. */}}
checksum/secret: {{ toJson $root.Values.auth | sha256sum }}
{{- with $root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod spec parts shared by the four services. Call with (dict "root" $ "component" "api" "values" .Values.api). */}}
{{- define "jobs.podCommon" -}}
{{- $root := .root }}
{{- $v := .values -}}
serviceAccountName: {{ include "jobs.serviceAccountName" $root }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with (default $root.Values.nodeSelector $v.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.tolerations $v.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.affinity $v.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $v.topologySpreadConstraints | nindent 2 }}
{{- else if $root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ $root.Values.topologySpread.maxSkew }}
    topologyKey: {{ $root.Values.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ $root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "jobs.selectorLabels" . | nindent 8 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $root.Values.tmpVolume.sizeLimit }}
      {{- with $root.Values.tmpVolume.medium }}
      medium: {{ . }}
      {{- end }}
{{- end }}

{{/* Container parts shared by the four services (image, security, /tmp, common env). */}}
{{- define "jobs.containerCommon" -}}
{{- $root := .root -}}
image: {{ include "jobs.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml $root.Values.containerSecurityContext | nindent 2 }}
resources:
  {{- toYaml .values.resources | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
envFrom:
  - configMapRef:
      name: {{ include "jobs.fullname" $root }}
{{- end }}

{{/* startup/liveness on /livez, readiness on /readyz, all on the named port. (dict "port" "http" "probes" .probes) */}}
{{- define "jobs.httpProbes" -}}
startupProbe:
  httpGet:
    path: /livez
    port: {{ .port }}
  {{- toYaml .probes.startup | nindent 2 }}
livenessProbe:
  httpGet:
    path: /livez
    port: {{ .port }}
  {{- toYaml .probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  {{- toYaml .probes.readiness | nindent 2 }}
{{- end }}

{{/* Whether the worker Deployment is owned by an autoscaler; fails when both are on. */}}
{{- define "jobs.workerAutoscaled" -}}
{{- $a := .Values.worker.autoscaling }}
{{- if and $a.hpa.enabled $a.keda.enabled }}
{{- fail "worker.autoscaling.hpa.enabled and worker.autoscaling.keda.enabled are both true: KEDA creates its own HPA, so enable only one" }}
{{- end }}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
{{- fail (printf "worker.autoscaling.minReplicas (%d) is greater than maxReplicas (%d)" (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- if or $a.hpa.enabled $a.keda.enabled }}true{{- end }}
{{- end }}

{{/* Queues the workers serve (worker.queues, else config.queues). */}}
{{- define "jobs.workerQueues" -}}
{{- join "," (default .Values.config.queues .Values.worker.queues) }}
{{- end }}

{{/* PromQL matchers of the api's cluster-wide series. */}}
{{- define "jobs.metricSelector" -}}
{{- default (printf "namespace=%q, service=%q" .Release.Namespace (include "jobs.componentName" (dict "root" . "component" "api"))) .Values.metrics.selector }}
{{- end }}

{{/* A PodDisruptionBudget. (dict "root" $ "component" "api" "pdb" .Values.api.pdb) */}}
{{- define "jobs.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "jobs.componentName" . }}
  labels:
    {{- include "jobs.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "jobs.selectorLabels" . | nindent 6 }}
{{- end }}

{{/*
An ingress-only NetworkPolicy. (dict "root" $ "component" "api" "port" "http" "from" $peers "own" true)
"from" empty means from anywhere, or from nowhere with "closed" true; "own" adds this release's pods (the helm test Pod) to a non-empty list.
*/}}
{{- define "jobs.networkPolicy" -}}
{{- $root := .root }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "jobs.componentName" . }}
  labels:
    {{- include "jobs.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "jobs.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress"]
  {{- if and .closed (not .from) }}
  ingress: []
  {{- else }}
  ingress:
    - ports:
        - port: {{ .port }}
          protocol: TCP
      {{- if .from }}
      from:
        {{- toYaml .from | nindent 8 }}
        {{- if .own }}
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ include "jobs.name" $root }}
              app.kubernetes.io/instance: {{ $root.Release.Name }}
        {{- end }}
      {{- end }}
  {{- end }}
{{- end }}
