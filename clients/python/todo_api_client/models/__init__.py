"""Contains all the data models used in inputs/outputs"""

from .access_token_create import AccessTokenCreate
from .access_token_public import AccessTokenPublic
from .access_token_with_value import AccessTokenWithValue
from .activity import Activity
from .activity_count import ActivityCount
from .audit_action import AuditAction
from .audit_digest_public import AuditDigestPublic
from .audit_entity import AuditEntity
from .audit_public import AuditPublic
from .audit_public_changes import AuditPublicChanges
from .audit_verification_public import AuditVerificationPublic
from .body_token import BodyToken
from .change import Change
from .change_page_project_public import ChangePageProjectPublic
from .change_page_task_public import ChangePageTaskPublic
from .delivery_public import DeliveryPublic
from .delivery_status import DeliveryStatus
from .digest_entry import DigestEntry
from .field_problem import FieldProblem
from .finding_kind import FindingKind
from .finding_public import FindingPublic
from .health import Health
from .json_web_key import JsonWebKey
from .json_web_key_set import JsonWebKeySet
from .latencies import Latencies
from .login_request import LoginRequest
from .page_access_token_public import PageAccessTokenPublic
from .page_audit_digest_public import PageAuditDigestPublic
from .page_audit_public import PageAuditPublic
from .page_delivery_public import PageDeliveryPublic
from .page_project_public import PageProjectPublic
from .page_session_public import PageSessionPublic
from .page_task_public import PageTaskPublic
from .page_user_public import PageUserPublic
from .page_webhook_public import PageWebhookPublic
from .problem import Problem
from .project_create import ProjectCreate
from .project_patch import ProjectPatch
from .project_public import ProjectPublic
from .project_replace import ProjectReplace
from .project_summary import ProjectSummary
from .project_workload import ProjectWorkload
from .refresh_request import RefreshRequest
from .role import Role
from .scope import Scope
from .session_public import SessionPublic
from .status_counts import StatusCounts
from .task_create import TaskCreate
from .task_patch import TaskPatch
from .task_public import TaskPublic
from .task_replace import TaskReplace
from .task_status import TaskStatus
from .token_response import TokenResponse
from .tombstone import Tombstone
from .user_create import UserCreate
from .user_patch import UserPatch
from .user_public import UserPublic
from .user_replace import UserReplace
from .user_workload import UserWorkload
from .validation_problem import ValidationProblem
from .webhook_create import WebhookCreate
from .webhook_event_type import WebhookEventType
from .webhook_patch import WebhookPatch
from .webhook_public import WebhookPublic
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "AccessTokenCreate",
    "AccessTokenPublic",
    "AccessTokenWithValue",
    "Activity",
    "ActivityCount",
    "AuditAction",
    "AuditDigestPublic",
    "AuditEntity",
    "AuditPublic",
    "AuditPublicChanges",
    "AuditVerificationPublic",
    "BodyToken",
    "Change",
    "ChangePageProjectPublic",
    "ChangePageTaskPublic",
    "DeliveryPublic",
    "DeliveryStatus",
    "DigestEntry",
    "FieldProblem",
    "FindingKind",
    "FindingPublic",
    "Health",
    "JsonWebKey",
    "JsonWebKeySet",
    "Latencies",
    "LoginRequest",
    "PageAccessTokenPublic",
    "PageAuditDigestPublic",
    "PageAuditPublic",
    "PageDeliveryPublic",
    "PageProjectPublic",
    "PageSessionPublic",
    "PageTaskPublic",
    "PageUserPublic",
    "PageWebhookPublic",
    "Problem",
    "ProjectCreate",
    "ProjectPatch",
    "ProjectPublic",
    "ProjectReplace",
    "ProjectSummary",
    "ProjectWorkload",
    "RefreshRequest",
    "Role",
    "Scope",
    "SessionPublic",
    "StatusCounts",
    "TaskCreate",
    "TaskPatch",
    "TaskPublic",
    "TaskReplace",
    "TaskStatus",
    "TokenResponse",
    "Tombstone",
    "UserCreate",
    "UserPatch",
    "UserPublic",
    "UserReplace",
    "UserWorkload",
    "ValidationProblem",
    "WebhookCreate",
    "WebhookEventType",
    "WebhookPatch",
    "WebhookPublic",
    "WebhookWithSecret",
)
