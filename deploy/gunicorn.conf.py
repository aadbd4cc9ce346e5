"""gunicorn's settings for Vigie, used by `make run` (one machine) and by the deployment (deploy/).

Environment: ``PORT`` (5000), ``BIND`` (127.0.0.1:$PORT; 0.0.0.0:8000 behind a proxy),
``WEB_CONCURRENCY`` (processes: 1 by default; 2 per core behind a proxy when Redis runs the
queue), ``WEB_THREADS`` (8). The embedded default (no REDIS_URL) runs its job queue in a thread of
the web process, so it keeps one process: the app is built in that process (no preload), never
before a fork.
"""

import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '5000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 1) if os.environ.get("REDIS_URL") else 1
threads = int(os.environ.get("WEB_THREADS") or 8)
worker_class = "gthread"
preload_app = False
timeout = 60  # a request never takes this long: uploads are read within the hardening limits
graceful_timeout = 10  # Ctrl-C or a deploy: requests in flight get this long to finish
keepalive = 5
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
