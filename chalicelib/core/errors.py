"""The error envelope: every failure answers ``{"error": {"code", "message"}}``."""
from __future__ import annotations

from chalice import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    """An error the client can act on; rendered with its status and snake_case code.

    Chalice re-raises ``ChaliceUnhandledError`` to the middleware, which renders it.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = {}  # e.g. CORS, so that the widget can read the reason

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"No such {what.replace('_', ' ')}.")


def unauthorized(message: str = "A valid bearer token is required.") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str = "This token may not act on this resource.") -> ApiError:
    return ApiError(403, "forbidden", message)


def unavailable(message: str = "The service is busy; retry shortly.") -> ApiError:
    return ApiError(503, "unavailable", message)
