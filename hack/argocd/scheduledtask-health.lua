-- Argo CD health check for kron ScheduledTasks.
-- Install it under resource.customizations.health.kron.dev_ScheduledTask in the
-- argocd-cm ConfigMap (see docs/gitops.md).
--   Progressing: kron has not observed the latest spec yet.
--   Degraded:    Stalled=True (an unusable spec, or stopped after too many failures).
--   Suspended:   Ready=True with reason Suspended (spec.suspend).
--   Healthy:     Ready=True (Scheduled, or Completed for a one-off that ran).
hs = {}
local status = obj.status
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "waiting for kron to observe the task"
  return hs
end
if obj.metadata.generation ~= nil and status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "waiting for kron to observe generation " .. obj.metadata.generation
  return hs
end
local ready = nil
for _, condition in ipairs(status.conditions or {}) do
  if condition.type == "Stalled" and condition.status == "True" then
    hs.status = "Degraded"
    hs.message = condition.reason .. ": " .. (condition.message or "")
    return hs
  end
  if condition.type == "Ready" then
    ready = condition
  end
end
if ready ~= nil and ready.status == "True" then
  if ready.reason == "Suspended" then
    hs.status = "Suspended"
  else
    hs.status = "Healthy"
  end
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
hs.message = "waiting for Ready"
return hs
