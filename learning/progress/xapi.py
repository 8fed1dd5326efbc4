"""xAPI 1.0.3 statements: a structural validator and builders.

Pure module (no Flask, no database). ``validate_statement`` checks a statement
against the data rules of the xAPI 1.0.3 specification (Part Two, "Experience
API Data") and returns a list of human-readable violations; an empty list means
the statement is valid. ``build_statement`` produces statements for the verbs
Kelisim emits, and every statement it returns passes the validator.
"""

from __future__ import annotations

import copy
import math
import re
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "ADL_VERB_BASE",
    "VERBS",
    "XAPI_VERSION",
    "build_statement",
    "iso_duration",
    "validate_activity",
    "validate_result",
    "validate_statement",
]

XAPI_VERSION = "1.0.3"
ADL_VERB_BASE = "http://adlnet.gov/expapi/verbs/"

VERBS: dict[str, dict[str, Any]] = {
    name: {"id": ADL_VERB_BASE + name, "display": {"en-US": name}}
    for name in (
        "experienced",
        "attempted",
        "answered",
        "passed",
        "failed",
        "completed",
        "registered",  # enrolment in a course
        "voided",  # revocation of an earlier statement
    )
}
VOIDED_VERB_ID = VERBS["voided"]["id"]

# --------------------------------------------------------------------------- #
# Lexical helpers
# --------------------------------------------------------------------------- #

class _LazyPattern:
    """A regular expression compiled on first use (the language-tag one takes ~50 ms to compile,
    which every command and worker would otherwise pay at start-up)."""

    def __init__(self, pattern: str, flags: int = 0):
        self._args = (pattern, flags)
        self._compiled: re.Pattern | None = None

    def __getattr__(self, name: str):
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


_IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_IRL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>\"{}|\\^`]+$")
_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
_MAILTO_RE = re.compile(r"^mailto:[^@\s:/?#]+@[^@\s/?#.][^@\s/?#]*$")
_SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA2_RE = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
# RFC 5646 language tag (pragmatic subset: language[-script][-region][-variant]*
# [-extension]*[-privateuse], or a private-use tag).
_LANG_RE = _LazyPattern(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+)$"
)
# ISO 8601 date-time in extended format (the RFC 3339 profile plus the
# ISO variants without seconds / with compact offsets).
_TIMESTAMP_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DURATION_NUM = r"\d+(?:[.,]\d+)?"
_DURATION_RE = re.compile(
    rf"^P(?:(?P<w>{_DURATION_NUM})W|"
    rf"(?:(?P<Y>{_DURATION_NUM})Y)?(?:(?P<M>{_DURATION_NUM})M)?(?:(?P<D>{_DURATION_NUM})D)?"
    rf"(?:T(?:(?P<H>{_DURATION_NUM})H)?(?:(?P<Mi>{_DURATION_NUM})M)?"
    rf"(?:(?P<S>{_DURATION_NUM})S)?)?)$"
)
_VERSION_RE = re.compile(r"^1\.0(?:\.\d+)?$")

_INTERACTION_TYPES = {
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
}
_COMPONENT_LISTS: dict[str, set[str]] = {
    "choices": {"choice", "sequencing"},
    "scale": {"likert"},
    "source": {"matching"},
    "target": {"matching"},
    "steps": {"performance"},
}
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def is_iri(value: Any) -> bool:
    """True if ``value`` is an absolute IRI (scheme ':' non-blank rest)."""
    return isinstance(value, str) and bool(_IRI_RE.match(value))


def is_uuid(value: Any) -> bool:
    """True if ``value`` is an RFC 4122 (variant 1, versions 1-5) UUID string."""
    return isinstance(value, str) and bool(_UUID_RE.match(value))


def is_timestamp(value: Any) -> bool:
    """True if ``value`` is an ISO 8601 date-time acceptable to an LRS."""
    if not isinstance(value, str):
        return False
    m = _TIMESTAMP_RE.match(value)
    if not m:
        return False
    tz = m.group("tz")
    if tz and tz.startswith("-") and set(tz[1:].replace(":", "")) == {"0"}:
        return False  # "-00:00" (unknown offset) is not allowed by xAPI
    try:
        datetime(
            int(m.group("y")),
            int(m.group("mo")),
            int(m.group("d")),
            int(m.group("h")),
            int(m.group("mi")),
            int(m.group("s") or 0),
        )
    except ValueError:
        return False
    if tz and tz != "Z":
        digits = tz[1:].replace(":", "")
        if int(digits[:2]) > 23 or (len(digits) == 4 and int(digits[2:]) > 59):
            return False
    return True


def is_duration(value: Any) -> bool:
    """True if ``value`` is an ISO 8601 duration (section 4.4.3.2 format)."""
    if not isinstance(value, str):
        return False
    m = _DURATION_RE.match(value)
    if not m:
        return False
    parts = [(k, v) for k, v in m.groupdict().items() if v is not None]
    if not parts:
        return False  # "P" or "PT" alone
    if value.endswith("T"):
        return False
    # only the smallest (last) component may carry a decimal fraction
    for _, v in parts[:-1]:
        if "." in v or "," in v:
            return False
    return True


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


# --------------------------------------------------------------------------- #
# Validator
# --------------------------------------------------------------------------- #


class _Checker:
    """Collects violations while walking a statement."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def obj(self, value: Any, path: str) -> bool:
        if not isinstance(value, dict):
            self.err(path, "must be a JSON object")
            return False
        return True

    def allowed(self, value: dict, path: str, allowed: set[str]) -> None:
        for key in value:
            if key not in allowed:
                self.err(path, f"unknown property {key!r}")

    def string(self, value: Any, path: str) -> bool:
        if not isinstance(value, str):
            self.err(path, "must be a string")
            return False
        return True

    def iri(self, value: Any, path: str) -> None:
        if not is_iri(value):
            self.err(path, f"must be an absolute IRI, got {value!r}")

    def irl(self, value: Any, path: str) -> None:
        if not (isinstance(value, str) and _IRL_RE.match(value)):
            self.err(path, f"must be an IRL (resolvable URL), got {value!r}")

    def uuid(self, value: Any, path: str) -> None:
        if not is_uuid(value):
            self.err(path, f"must be a UUID, got {value!r}")

    def timestamp(self, value: Any, path: str) -> None:
        if not is_timestamp(value):
            self.err(path, f"must be an ISO 8601 timestamp, got {value!r}")

    def language_map(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        for tag, text in value.items():
            if not _LANG_RE.match(tag):
                self.err(path, f"invalid RFC 5646 language tag {tag!r}")
            if not isinstance(text, str):
                self.err(f"{path}.{tag}", "must be a string")

    def extensions(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        for key in value:
            if not is_iri(key):
                self.err(path, f"extension key must be an IRI, got {key!r}")

    # -- Agents and Groups -------------------------------------------------- #

    def _ifis(self, value: dict, path: str) -> int:
        count = 0
        for ifi in _IFIS:
            if ifi not in value:
                continue
            count += 1
            v = value[ifi]
            p = f"{path}.{ifi}"
            if ifi == "mbox":
                if not (isinstance(v, str) and _MAILTO_RE.match(v)):
                    self.err(p, f"must be a 'mailto:' IRI of an email address, got {v!r}")
            elif ifi == "mbox_sha1sum":
                if not (isinstance(v, str) and _SHA1_RE.match(v)):
                    self.err(p, "must be a hex-encoded SHA-1 hash")
            elif ifi == "openid":
                self.iri(v, p)
            elif self.obj(v, p):
                self.allowed(v, p, {"homePage", "name"})
                if "homePage" not in v:
                    self.err(p, "missing required property 'homePage'")
                else:
                    self.irl(v["homePage"], f"{p}.homePage")
                if "name" not in v:
                    self.err(p, "missing required property 'name'")
                else:
                    self.string(v["name"], f"{p}.name")
        return count

    def agent(self, value: Any, path: str, *, require_type: bool = False) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"objectType", "name", *_IFIS})
        if "objectType" in value:
            if value["objectType"] != "Agent":
                self.err(f"{path}.objectType", "must be 'Agent'")
        elif require_type:
            self.err(path, "missing required property 'objectType'")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        n = self._ifis(value, path)
        if n != 1:
            self.err(path, f"an Agent must have exactly one inverse functional identifier, has {n}")

    def group(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"objectType", "name", "member", *_IFIS})
        if value.get("objectType") != "Group":
            self.err(f"{path}.objectType", "must be 'Group'")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        n = self._ifis(value, path)
        if n > 1:
            self.err(path, f"a Group must have at most one inverse functional identifier, has {n}")
        if "member" in value:
            members = value["member"]
            if not isinstance(members, list):
                self.err(f"{path}.member", "must be an array of Agents")
            else:
                for i, m in enumerate(members):
                    self.agent(m, f"{path}.member[{i}]")
        elif n == 0:
            self.err(path, "an anonymous Group must have a 'member' list")

    def actor(self, value: Any, path: str, *, require_type: bool = False) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path, require_type=require_type)

    # -- Activities and objects --------------------------------------------- #

    def _components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.err(path, "must be an array of interaction components")
            return
        seen: set[str] = set()
        for i, comp in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(comp, p):
                continue
            self.allowed(comp, p, {"id", "description"})
            cid = comp.get("id")
            if not isinstance(cid, str) or not cid.strip():
                self.err(f"{p}.id", "must be a non-empty string")
            elif cid in seen:
                self.err(f"{p}.id", f"duplicate interaction component id {cid!r}")
            else:
                seen.add(cid)
            if "description" in comp:
                self.language_map(comp["description"], f"{p}.description")

    def definition(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        allowed = {
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            *_COMPONENT_LISTS,
        }
        self.allowed(value, path, allowed)
        for key in ("name", "description"):
            if key in value:
                self.language_map(value[key], f"{path}.{key}")
        if "type" in value:
            self.iri(value["type"], f"{path}.type")
        if "moreInfo" in value:
            self.irl(value["moreInfo"], f"{path}.moreInfo")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        itype = value.get("interactionType")
        if "interactionType" in value and itype not in _INTERACTION_TYPES:
            self.err(f"{path}.interactionType", f"unknown interaction type {itype!r}")
        if "correctResponsesPattern" in value:
            crp = value["correctResponsesPattern"]
            if itype is None:
                self.err(path, "'correctResponsesPattern' requires 'interactionType'")
            if not isinstance(crp, list) or not all(isinstance(s, str) for s in crp):
                self.err(f"{path}.correctResponsesPattern", "must be an array of strings")
        for key, types in _COMPONENT_LISTS.items():
            if key in value:
                if itype not in types:
                    self.err(
                        f"{path}.{key}",
                        f"not allowed for interactionType {itype!r}",
                    )
                self._components(value[key], f"{path}.{key}")

    def activity(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"objectType", "id", "definition"})
        if "objectType" in value and value["objectType"] != "Activity":
            self.err(f"{path}.objectType", "must be 'Activity'")
        if "id" not in value:
            self.err(path, "missing required property 'id'")
        else:
            self.iri(value["id"], f"{path}.id")
        if "definition" in value:
            self.definition(value["definition"], f"{path}.definition")

    def statement_ref(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"objectType", "id"})
        if value.get("objectType") != "StatementRef":
            self.err(f"{path}.objectType", "must be 'StatementRef'")
        if "id" not in value:
            self.err(path, "missing required property 'id'")
        else:
            self.uuid(value["id"], f"{path}.id")

    def object(self, value: Any, path: str, *, in_substatement: bool = False) -> None:
        if not self.obj(value, path):
            return
        otype = value.get("objectType", "Activity")
        if otype == "Activity":
            self.activity(value, path)
        elif otype == "Agent":
            self.agent(value, path, require_type=True)
        elif otype == "Group":
            self.group(value, path)
        elif otype == "StatementRef":
            self.statement_ref(value, path)
        elif otype == "SubStatement":
            if in_substatement:
                self.err(path, "a SubStatement must not contain a SubStatement")
            else:
                self.statement(value, path, sub=True)
        else:
            self.err(f"{path}.objectType", f"unknown objectType {otype!r}")

    # -- Result, context, attachments --------------------------------------- #

    def result(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(
            value, path, {"score", "success", "completion", "response", "duration", "extensions"}
        )
        if "score" in value:
            self.score(value["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in value and not isinstance(value[key], bool):
                self.err(f"{path}.{key}", "must be a boolean")
        if "response" in value:
            self.string(value["response"], f"{path}.response")
        if "duration" in value and not is_duration(value["duration"]):
            self.err(f"{path}.duration", f"must be an ISO 8601 duration, got {value['duration']!r}")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")

    def score(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"scaled", "raw", "min", "max"})
        nums: dict[str, float] = {}
        for key in ("scaled", "raw", "min", "max"):
            if key in value:
                if _is_number(value[key]):
                    nums[key] = value[key]
                else:
                    self.err(f"{path}.{key}", "must be a number")
        if "scaled" in nums and not -1 <= nums["scaled"] <= 1:
            self.err(f"{path}.scaled", "must be between -1 and 1")
        lo, hi, raw = nums.get("min"), nums.get("max"), nums.get("raw")
        if lo is not None and hi is not None and not lo < hi:
            self.err(path, "'max' must be greater than 'min'")
        if raw is not None:
            if lo is not None and raw < lo:
                self.err(f"{path}.raw", "must not be less than 'min'")
            if hi is not None and raw > hi:
                self.err(f"{path}.raw", "must not be greater than 'max'")

    def context(self, value: Any, path: str, object_is_activity: bool) -> None:
        if not self.obj(value, path):
            return
        self.allowed(
            value,
            path,
            {
                "registration",
                "instructor",
                "team",
                "contextActivities",
                "revision",
                "platform",
                "language",
                "statement",
                "extensions",
            },
        )
        if "registration" in value:
            self.uuid(value["registration"], f"{path}.registration")
        if "instructor" in value:
            self.actor(value["instructor"], f"{path}.instructor")
        if "team" in value:
            self.group(value["team"], f"{path}.team")
        if "contextActivities" in value:
            self.context_activities(value["contextActivities"], f"{path}.contextActivities")
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}.{key}")
                if not object_is_activity:
                    self.err(f"{path}.{key}", "only allowed when the object is an Activity")
        if "language" in value:
            lang = value["language"]
            if not (isinstance(lang, str) and _LANG_RE.match(lang)):
                self.err(f"{path}.language", f"must be an RFC 5646 language tag, got {lang!r}")
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}.statement")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")

    def context_activities(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"parent", "grouping", "category", "other"})
        for key, acts in value.items():
            p = f"{path}.{key}"
            items = acts if isinstance(acts, list) else [acts]
            for i, act in enumerate(items):
                ip = f"{p}[{i}]" if isinstance(acts, list) else p
                if isinstance(act, dict) and act.get("objectType", "Activity") != "Activity":
                    self.err(f"{ip}.objectType", "context activities must be Activities")
                else:
                    self.activity(act, ip)

    def attachments(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.err(path, "must be an array")
            return
        allowed = {
            "usageType", "display", "description", "contentType", "length", "sha2", "fileUrl",
        }
        for i, att in enumerate(value):
            p = f"{path}[{i}]"
            if not self.obj(att, p):
                continue
            self.allowed(att, p, allowed)
            for key in ("usageType", "display", "contentType", "length", "sha2"):
                if key not in att:
                    self.err(p, f"missing required property {key!r}")
            if "usageType" in att:
                self.iri(att["usageType"], f"{p}.usageType")
            for key in ("display", "description"):
                if key in att:
                    self.language_map(att[key], f"{p}.{key}")
            if "contentType" in att:
                ct = att["contentType"]
                if not (isinstance(ct, str) and re.match(r"^[\w.+-]+/[\w.+-]+(?:\s*;.*)?$", ct)):
                    self.err(f"{p}.contentType", f"must be an Internet Media Type, got {ct!r}")
            if "length" in att:
                length = att["length"]
                if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                    self.err(f"{p}.length", "must be a non-negative integer")
            if "sha2" in att and not (isinstance(att["sha2"], str) and _SHA2_RE.match(att["sha2"])):
                self.err(f"{p}.sha2", "must be a hex-encoded SHA-2 hash")
            if "fileUrl" in att:
                self.irl(att["fileUrl"], f"{p}.fileUrl")

    def authority(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
            members = value.get("member")
            if not isinstance(members, list) or len(members) != 2:
                self.err(path, "a Group authority must have exactly two Agent members (OAuth)")
        else:
            self.agent(value, path)

    # -- Statement ---------------------------------------------------------- #

    def statement(self, value: Any, path: str, *, sub: bool = False) -> None:
        if not self.obj(value, path):
            return
        common = {
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "attachments",
        }
        if sub:
            self.allowed(value, path, common | {"objectType"})
            if value.get("objectType") != "SubStatement":
                self.err(f"{path}.objectType", "must be 'SubStatement'")
        else:
            self.allowed(value, path, common | {"id", "stored", "authority", "version"})

        for key in ("actor", "verb", "object"):
            if key not in value:
                self.err(path, f"missing required property {key!r}")

        if "id" in value:
            self.uuid(value["id"], f"{path}.id")
        if "actor" in value:
            self.actor(value["actor"], f"{path}.actor")
        if "verb" in value:
            self.verb(value["verb"], f"{path}.verb")
        obj = value.get("object")
        if "object" in value:
            self.object(obj, f"{path}.object", in_substatement=sub)
        verb_id = value.get("verb", {}).get("id") if isinstance(value.get("verb"), dict) else None
        if verb_id == VOIDED_VERB_ID and not (
            isinstance(obj, dict) and obj.get("objectType") == "StatementRef"
        ):
            self.err(f"{path}.object", "a voiding statement's object must be a StatementRef")
        if "result" in value:
            self.result(value["result"], f"{path}.result")
        if "context" in value:
            object_is_activity = isinstance(obj, dict) and obj.get("objectType", "Activity") == (
                "Activity"
            )
            self.context(value["context"], f"{path}.context", object_is_activity)
        for key in ("timestamp", "stored"):
            if key in value:
                self.timestamp(value[key], f"{path}.{key}")
        if "version" in value:
            v = value["version"]
            if not (isinstance(v, str) and _VERSION_RE.match(v)):
                self.err(f"{path}.version", f"must be a 1.0.x version, got {v!r}")
        if "attachments" in value:
            self.attachments(value["attachments"], f"{path}.attachments")
        if "authority" in value:
            self.authority(value["authority"], f"{path}.authority")

    def verb(self, value: Any, path: str) -> None:
        if not self.obj(value, path):
            return
        self.allowed(value, path, {"id", "display"})
        if "id" not in value:
            self.err(path, "missing required property 'id'")
        else:
            self.iri(value["id"], f"{path}.id")
        if "display" in value:
            self.language_map(value["display"], f"{path}.display")


def validate_statement(stmt: dict) -> list[str]:
    """Return the xAPI 1.0.3 violations in ``stmt`` (an empty list means valid)."""
    checker = _Checker()
    checker.statement(stmt, "statement")
    return checker.errors


def validate_activity(activity: dict) -> list[str]:
    """Return the violations in an Activity object (as used for a statement object)."""
    checker = _Checker()
    checker.object(activity, "activity")
    if isinstance(activity, dict) and activity.get("objectType", "Activity") != "Activity":
        checker.err("activity.objectType", "must be 'Activity'")
    return checker.errors


def validate_result(result: dict) -> list[str]:
    """Return the violations in a Result object."""
    checker = _Checker()
    checker.result(result, "result")
    return checker.errors


# --------------------------------------------------------------------------- #
# Builders
# --------------------------------------------------------------------------- #


def iso_duration(seconds: float) -> str:
    """Format ``seconds`` as an ISO 8601 duration, e.g. 3723.5 -> ``PT1H2M3.5S``.

    Precision is 0.01 s (the precision xAPI requires LRSs to keep). Zero-valued
    components are omitted; zero itself is ``PT0S``.
    """
    if not _is_number(seconds) or seconds < 0:
        raise ValueError(f"duration must be a finite non-negative number, got {seconds!r}")
    centis = round(seconds * 100)
    hours, centis = divmod(centis, 360_000)
    minutes, centis = divmod(centis, 6_000)
    whole, frac = divmod(centis, 100)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if whole or frac or out == "PT":
        out += f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "S"
    return out


def _utc_timestamp(ts: datetime) -> str:
    """UTC ISO 8601 with millisecond precision and a 'Z' suffix (naive = UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_statement(
    *,
    statement_id: str,
    verb: str,
    actor_email: str,
    actor_name: str,
    base_url: str,
    object_path: str,
    object_name: dict[str, str],
    timestamp: datetime,
    result: dict | None = None,
    context_registration: str | None = None,
    parent_path: str | None = None,
    voided_statement_id: str | None = None,
    activity_type: str | None = None,
) -> dict:
    """Build a valid xAPI 1.0.3 statement for one of the ``VERBS``.

    The actor is an Agent identified by ``mailto:<actor_email>``; the object is
    the Activity ``base_url + object_path`` named by the language map
    ``object_name``. For ``verb="voided"`` the object is instead a StatementRef
    to ``voided_statement_id`` (required). A naive ``timestamp`` is taken as
    UTC. Raises ``ValueError`` for an unknown verb or if the statement would be
    invalid.
    """
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}; expected one of {sorted(VERBS)}")
    base = base_url.rstrip("/")

    def _iri(path: str) -> str:
        return base + (path if path.startswith("/") else "/" + path)

    obj: dict[str, Any]
    if verb == "voided":
        if not voided_statement_id:
            raise ValueError("verb 'voided' requires voided_statement_id")
        obj = {"objectType": "StatementRef", "id": voided_statement_id.lower()}
    else:
        definition: dict[str, Any] = {"name": dict(object_name)}
        if activity_type:
            definition["type"] = activity_type
        obj = {"objectType": "Activity", "id": _iri(object_path), "definition": definition}

    stmt: dict[str, Any] = {
        "id": statement_id.lower(),
        "actor": {"objectType": "Agent", "name": actor_name, "mbox": "mailto:" + actor_email},
        "verb": copy.deepcopy(VERBS[verb]),
        "object": obj,
        "timestamp": _utc_timestamp(timestamp),
        "version": XAPI_VERSION,
    }
    if result is not None:
        stmt["result"] = copy.deepcopy(result)
    context: dict[str, Any] = {}
    if context_registration:
        context["registration"] = context_registration.lower()
    if parent_path:
        parent = {"objectType": "Activity", "id": _iri(parent_path)}
        context["contextActivities"] = {"parent": [parent]}
    if context:
        stmt["context"] = context

    errors = validate_statement(stmt)
    if errors:
        raise ValueError("invalid xAPI statement: " + "; ".join(errors))
    return stmt
