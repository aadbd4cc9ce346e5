from flask import Blueprint

bp = Blueprint("employee_space", __name__, url_prefix="/s")

from portal.employee_space import routes  # noqa: E402,F401
