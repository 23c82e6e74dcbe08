{{/* Names, labels and shared fragments of the kron chart. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "kron.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: fullnameOverride, else the release name (when it
already says the chart's name), else "<release>-<chart>". At most 40 characters, so
suffixes like "-tasks-view" and "-shard-12" keep names within 63. */}}
{{- define "kron.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kron.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "kron.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "kron.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kron
{{- end -}}

{{/* Labels that select the operator's Pods (all shards). */}}
{{- define "kron.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kron.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kron.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kron.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kron.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The name of shard $index's Deployment and PDB: plain when there is one shard. */}}
{{- define "kron.shardName" -}}
{{- if eq (int .root.Values.sharding.count) 1 -}}
{{- include "kron.fullname" .root -}}
{{- else -}}
{{- printf "%s-shard-%d" (include "kron.fullname" .root) (int .index) -}}
{{- end -}}
{{- end -}}

{{/* The Lease names the replicas use (kron appends "-<index>" when sharded). */}}
{{- define "kron.leaseNames" -}}
{{- $count := int .Values.sharding.count -}}
{{- if eq $count 1 -}}
{{- list .Values.leaderElection.leaseName | toJson -}}
{{- else -}}
{{- $names := list -}}
{{- range $i := until $count -}}
{{- $names = append $names (printf "%s-%d" $.Values.leaderElection.leaseName $i) -}}
{{- end -}}
{{- $names | toJson -}}
{{- end -}}
{{- end -}}

{{/* operator.namespaceWeights as KRON_NAMESPACE_WEIGHTS: "ns=weight,..." (sorted by name). */}}
{{- define "kron.namespaceWeights" -}}
{{- $pairs := list -}}
{{- range $namespace, $weight := . -}}
{{- $pairs = append $pairs (printf "%s=%v" $namespace $weight) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* Values JSON Schema cannot compare: checked here, failing the render with a reason. */}}
{{- define "kron.validate" -}}
{{- $le := .Values.leaderElection -}}
{{- if not (lt (float64 $le.renewDeadlineSeconds) (float64 $le.leaseDurationSeconds)) -}}
{{- fail (printf "leaderElection.renewDeadlineSeconds (%v) must be less than leaderElection.leaseDurationSeconds (%v)" $le.renewDeadlineSeconds $le.leaseDurationSeconds) -}}
{{- end -}}
{{- if not (lt (float64 $le.retryPeriodSeconds) (float64 $le.renewDeadlineSeconds)) -}}
{{- fail (printf "leaderElection.retryPeriodSeconds (%v) must be less than leaderElection.renewDeadlineSeconds (%v)" $le.retryPeriodSeconds $le.renewDeadlineSeconds) -}}
{{- end -}}
{{- if and (not $le.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail "leaderElection.enabled=false needs replicaCount=1: replicas without election would all dispatch" -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if hasPrefix "KRON_" .name -}}
{{- fail (printf "extraEnv: %s is set by the chart from its values (see values.yaml), not through extraEnv" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The rules the operator needs in every namespace it serves. Each says why. */}}
{{- define "kron.operatorRules" -}}
# The ScheduledTasks: kron lists them at start and then watches them to keep its index.
# It never changes a task's spec or metadata.
- apiGroups: ["kron.dev"]
  resources: ["scheduledtasks"]
  verbs: ["get", "list", "watch"]
# What kron observed and decided (conditions, next and last ticks, history, counts) is
# merge-patched into the status subresource, which tenants' edit rights do not cover.
- apiGroups: ["kron.dev"]
  resources: ["scheduledtasks/status"]
  verbs: ["patch"]
# Calendars (days tasks exclude or are restricted to): listed at start and watched, so an
# edit re-plans the tasks that name it. Read only: kron writes nothing to them.
- apiGroups: ["kron.dev"]
  resources: ["calendars"]
  verbs: ["get", "list", "watch"]
# Each run carries an ownerReference to its task with blockOwnerDeletion: true; where the
# OwnerReferencesPermissionEnforcement admission plugin is on, setting it requires
# update on the owner's finalizers subresource.
- apiGroups: ["kron.dev"]
  resources: ["scheduledtasks/finalizers"]
  verbs: ["update"]
# Runs as Jobs (jobTemplate): create one per tick; get it back when a create answers
# AlreadyExists (the tick already fired: adopt it); list and watch them (only those
# labelled kron.dev/task-uid) to see them finish; delete for Replace and history limits.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "get", "list", "watch", "delete"]
# Runs as bare Pods (podTemplate): the same life cycle as Jobs.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "get", "list", "watch", "delete"]
# Events on the tasks (Fired, Succeeded, Failed, Missed, ...): create, and patch to
# count repeats of the same Event instead of posting new ones.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
