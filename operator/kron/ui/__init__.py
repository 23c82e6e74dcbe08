"""`kron ui`: a web page where tenants see and drive their schedules, with their own rights.

The server holds no privilege of its own: every read and write is an API call made
with the user's credentials (their kubeconfig on a laptop, their own bearer token,
forwarded by the platform's authentication proxy, in a cluster), so RBAC decides
what each person sees and may do. Layout:

- ``model``, ``calendar``, ``herds``: pure view models (task rows and states, upcoming
  fires by day with DST changes marked, runs per minute across tasks);
- ``feeds``: one shared list+watch per (identity, namespace, resource), started when a
  page needs it and stopped when nobody listens;
- ``security``: who is asking (launch cookie or forwarded token) and CSRF checks;
- ``server`` and ``pages``: the aiohttp application, its routes and the server-sent
  event streams; ``templates/`` and ``static/`` hold the HTML, CSS and plain JS.

The operator never imports this package (an import-linter contract says so), and
Jinja2 is an optional extra (``pip install 'kron[ui]'``).
"""
