"""A real Django cache, driven over JSON lines (see peer.ts and the package README).

    python3 cache-peer.py '{"BACKEND": ..., "LOCATION": ..., "OPTIONS": {...}, "DATABASES": {...}}'

The argument is one CACHES entry, plus optional "DATABASES" and "USE_TZ" settings. After setup the
peer writes {"ready": true, ...} and then answers each request line on stdin with one reply line
on stdout, in order, echoing the request's "id". Errors become {"error", "type"} replies; the
process only ends when stdin closes. Values travel as typed JSON (`to_typed` / `from_typed`).
"""

import base64
import datetime
import decimal
import io
import json
import math
import os
import socket
import sys
import traceback
import warnings

# Only replies go to the real stdout: anything a library prints (createcachetable does) goes to stderr.
REPLIES = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

SETTINGS_KEYS = ("DATABASES", "USE_TZ")


# --- typed JSON -------------------------------------------------------------------------------

def _tz_name(tzinfo):
    if tzinfo is None:
        return None
    if tzinfo is datetime.timezone.utc:
        return "utc"
    if isinstance(tzinfo, datetime.timezone):
        offset = tzinfo.utcoffset(None)
        sign = "-" if offset < datetime.timedelta(0) else "+"
        seconds = int(abs(offset).total_seconds())
        text = "%s%02d:%02d" % (sign, seconds // 3600, seconds // 60 % 60)
        return text + (":%02d" % (seconds % 60) if seconds % 60 else "")
    return "tzinfo:%s.%s:%r" % (type(tzinfo).__module__, type(tzinfo).__qualname__, tzinfo)


def _tz_from_name(name):
    if name is None:
        return None
    if name == "utc":
        return datetime.timezone.utc
    if name[:1] in "+-" and name[1:3].isdigit():
        parts = [int(part) for part in name[1:].split(":")] + [0, 0]
        offset = datetime.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
        return datetime.timezone(-offset if name[0] == "-" else offset)
    raise ValueError("unsupported tz %r (use null, 'utc' or '+HH:MM')" % (name,))


def _float_to_json(value):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0.0"  # JSON.stringify(-0) is "0"
    return value


def to_typed(value):
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": _float_to_json(value)}
    if kind is str:
        return {"t": "str", "v": value}
    if kind is bytes:
        return {"t": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if kind in (list, tuple):
        return {"t": kind.__name__, "v": [to_typed(item) for item in value]}
    if kind in (set, frozenset):
        items = sorted((to_typed(item) for item in value), key=lambda typed: json.dumps(typed, sort_keys=True))
        return {"t": kind.__name__, "v": items}
    if kind is dict:
        return {"t": "dict", "v": [[to_typed(key), to_typed(item)] for key, item in value.items()]}
    if kind is datetime.datetime:
        return {"t": "datetime", "iso": value.replace(tzinfo=None).isoformat(), "tz": _tz_name(value.tzinfo)}
    if kind is datetime.date:
        return {"t": "date", "iso": value.isoformat()}
    if kind is decimal.Decimal:
        return {"t": "decimal", "v": str(value)}
    # Nothing Node could build: reported, never silently turned into something else.
    return {"t": "repr", "type": "%s.%s" % (kind.__module__, kind.__qualname__), "v": repr(value)}


def from_typed(typed):
    if not isinstance(typed, dict) or "t" not in typed:
        raise ValueError("not a typed value: %r" % (typed,))
    tag = typed["t"]
    if tag == "none":
        return None
    if tag == "bool":
        return bool(typed["v"])
    if tag == "int":
        return int(typed["v"])
    if tag == "float":
        return float(typed["v"])  # float("nan"), float("-0.0") and float(1.5) alike
    if tag == "str":
        return str(typed["v"])
    if tag == "bytes":
        return base64.b64decode(typed["b64"], validate=True)
    if tag == "list":
        return [from_typed(item) for item in typed["v"]]
    if tag == "tuple":
        return tuple(from_typed(item) for item in typed["v"])
    if tag == "set":
        return {from_typed(item) for item in typed["v"]}
    if tag == "frozenset":
        return frozenset(from_typed(item) for item in typed["v"])
    if tag == "dict":
        return {from_typed(key): from_typed(item) for key, item in typed["v"]}
    if tag == "datetime":
        return datetime.datetime.fromisoformat(typed["iso"]).replace(tzinfo=_tz_from_name(typed.get("tz")))
    if tag == "date":
        return datetime.date.fromisoformat(typed["iso"])
    if tag == "decimal":
        return decimal.Decimal(typed["v"])
    raise ValueError("unknown typed value tag %r" % (tag,))


# --- samples ----------------------------------------------------------------------------------

SAMPLES = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "int": 42,
    "negative_int": -7,
    "big_int": 2**53 + 1,
    "huge_int": 2**100,
    "float": 1.5,
    "negative_zero": -0.0,
    "text": "text",
    "unicode": "héllo 🔑",
    "empty_text": "",
    "bytes": b"\x00\xffbytes",
    "list": [1, "two", 3.0],
    "tuple": (1, 2),
    "dict": {"a": 1, "nested": {"b": [1, 2]}},
    "int_key_dict": {1: "int key"},
    "set": {1, 2, 3},
    "frozenset": frozenset({"a"}),
    "datetime_naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "datetime_utc": datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc),
    "date": datetime.date(2024, 2, 29),
    "decimal": decimal.Decimal("19.99"),
    "rows": [{"id": 1, "name": "Ada", "active": True}, {"id": 2, "name": "Grace", "active": False}],
    "empty_dict": {},
    "empty_list": [],
}


def same(a, b):
    """Equal and of exactly the same types, all the way down (-0.0 is not 0.0; NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        if len(a) != len(b):
            return False
        keys_b = {key: key for key in b}
        return all(key in keys_b and same(key, keys_b[key]) and same(a[key], b[key]) for key in a)
    if type(a) in (set, frozenset):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    if type(a) is datetime.datetime:
        return a == b and type(a.tzinfo) is type(b.tzinfo) and a.utcoffset() == b.utcoffset()
    if type(a) is decimal.Decimal:
        return str(a) == str(b)
    return a == b


def type_name(value):
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)


# --- the cache --------------------------------------------------------------------------------

class Peer:
    def __init__(self, config):
        import django
        from django.conf import settings

        cache = {key: value for key, value in config.items() if key not in SETTINGS_KEYS}
        settings.configure(
            CACHES={"default": cache},
            DATABASES=config.get("DATABASES", {}),
            USE_TZ=config.get("USE_TZ", False),
            INSTALLED_APPS=[],
            LOGGING_CONFIG=None,
        )
        django.setup()
        from django.core.cache import caches

        self.config = cache
        self.cache = caches["default"]
        self.missing = object()
        self.django_version = django.get_version()

    # Requests carry "key", "value", "timeout" (absent: the default; null: forever), "version".
    def _kwargs(self, request, *names):
        return {name: request[name] for name in names if name in request}

    def _timeout(self, request):
        return {"timeout": request["timeout"]} if "timeout" in request else {}

    def op_set(self, r):
        self.cache.set(r["key"], from_typed(r["value"]), **self._timeout(r), **self._kwargs(r, "version"))
        return {}

    def op_get(self, r):
        value = self.cache.get(r["key"], self.missing, **self._kwargs(r, "version"))
        return {"hit": False} if value is self.missing else {"hit": True, "value": to_typed(value)}

    def op_get_many(self, r):
        found = self.cache.get_many(r["keys"], **self._kwargs(r, "version"))
        return {"values": [[key, to_typed(value)] for key, value in found.items()]}

    def op_set_many(self, r):
        data = {key: from_typed(value) for key, value in r["values"]}
        failed = self.cache.set_many(data, **self._timeout(r), **self._kwargs(r, "version"))
        return {"failed": list(failed or [])}  # django-redis returns None

    def op_delete(self, r):
        return {"deleted": bool(self.cache.delete(r["key"], **self._kwargs(r, "version")))}

    def op_incr(self, r):
        return {"value": to_typed(self.cache.incr(r["key"], int(r.get("delta", 1)), **self._kwargs(r, "version")))}

    def op_decr(self, r):
        return {"value": to_typed(self.cache.decr(r["key"], int(r.get("delta", 1)), **self._kwargs(r, "version")))}

    def op_add(self, r):
        added = self.cache.add(r["key"], from_typed(r["value"]), **self._timeout(r), **self._kwargs(r, "version"))
        return {"added": bool(added)}

    def op_touch(self, r):
        return {"touched": bool(self.cache.touch(r["key"], **self._timeout(r), **self._kwargs(r, "version")))}

    def op_has_key(self, r):
        return {"present": bool(self.cache.has_key(r["key"], **self._kwargs(r, "version")))}

    def op_clear(self, r):
        self.cache.clear()
        return {}

    def op_make_key(self, r):
        return {"key": str(self.cache.make_key(r["key"], **self._kwargs(r, "version")))}

    def op_createcachetable(self, r):
        from django.core.management import call_command

        output = io.StringIO()
        call_command("createcachetable", stdout=output, stderr=output)
        return {"output": output.getvalue()}

    def op_samples(self, r):
        return {"samples": {name: to_typed(value) for name, value in SAMPLES.items()}}

    def _sample_names(self, r):
        names = r.get("names") or list(SAMPLES)
        unknown = [name for name in names if name not in SAMPLES]
        if unknown:
            raise KeyError("unknown samples: %s" % ", ".join(unknown))
        return names

    def op_write_samples(self, r):
        prefix = r.get("prefix", "sample:")
        names = self._sample_names(r)
        for name in names:
            self.cache.set(prefix + name, SAMPLES[name], **self._timeout(r))
        return {"written": names}

    def op_read_samples(self, r):
        prefix = r.get("prefix", "sample:")
        results = {}
        for name in self._sample_names(r):
            try:
                got = self.cache.get(prefix + name, self.missing)
            except Exception as error:  # one unreadable value must not hide the others
                results[name] = {"equal": False, "error": str(error), "type": type(error).__name__}
                continue
            if got is self.missing:
                results[name] = {"equal": False, "missing": True}
            else:
                results[name] = {"equal": same(got, SAMPLES[name]), "type": type_name(got), "value": to_typed(got)}
        return {"results": results}

    def op_raw_get(self, r):
        raw = self._raw(r["key"], **self._kwargs(r, "version"))
        if raw is None:
            return {"found": False}
        data, extra = raw
        return {"found": True, "bytes": to_typed(bytes(data)), **extra}

    def _raw(self, original_key, **version):
        """The stored bytes (and flags, or expiry) as the backend keeps them, or None."""
        backend = self.config["BACKEND"]
        key = str(self.cache.make_key(original_key, **version))
        if backend.endswith("locmem.LocMemCache"):
            data = self.cache._cache.get(key)
            return None if data is None else (data, {"expires": self.cache._expire_info.get(key)})
        if backend.endswith("filebased.FileBasedCache"):
            try:
                with open(self.cache._key_to_file(original_key, **version), "rb") as file:
                    return file.read(), {}
            except FileNotFoundError:
                return None
        if backend.endswith("db.DatabaseCache"):
            from django.db import connections, router

            db = router.db_for_read(self.cache.cache_model_class)
            connection = connections[db]
            table = connection.ops.quote_name(self.cache._table)
            with connection.cursor() as cursor:
                cursor.execute("SELECT value, expires FROM %s WHERE cache_key = %%s" % table, [key])
                row = cursor.fetchone()
            return None if row is None else (row[0].encode("latin1"), {"expires": str(row[1])})
        if backend.startswith("django_redis."):
            data = self.cache.client.get_client(write=False).get(key)
            return None if data is None else (data, {})
        if backend.endswith("memcached.PyMemcacheCache"):
            return memcached_raw_get(self.cache._cache._get_client(key).server, key)
        if backend.endswith("memcached.PyLibMCCache"):
            if len(self.cache._servers) != 1:
                raise ValueError("raw_get on PyLibMCCache needs a single server")
            return memcached_raw_get(self.cache._servers[0], key)
        raise NotImplementedError("raw_get is not supported for %s" % backend)


def memcached_raw_get(server, key):
    """A text-protocol `get` on its own connection: (bytes, {"flags": n}) or None."""
    if isinstance(server, str):
        path = server[5:] if server.startswith("unix:") else server
        if path.startswith("/"):
            connection = socket.socket(socket.AF_UNIX)
            connection.connect(path)
        else:
            host, _, port = path.rpartition(":")
            connection = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
    else:
        connection = socket.create_connection(tuple(server), timeout=5)
    with connection:
        connection.sendall(b"get " + key.encode("utf-8") + b"\r\n")
        received = b""
        while not (received.endswith(b"END\r\n") or received.startswith((b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR"))):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    if not received.startswith(b"VALUE "):
        if received.startswith(b"END"):
            return None
        raise ValueError("memcached answered %r" % received[:200])
    header, _, rest = received.partition(b"\r\n")
    _, _, flags, length = header.split(b" ")[:4]
    return rest[: int(length)], {"flags": int(flags)}


# --- the loop ---------------------------------------------------------------------------------

def reply(message):
    try:
        line = json.dumps(message, ensure_ascii=True, allow_nan=False)
    except Exception as error:
        line = json.dumps({"id": message.get("id"), "error": "unencodable reply: %s" % error, "type": type(error).__name__})
    REPLIES.write(line + "\n")
    REPLIES.flush()


def answer(peer, line):
    request_id = None
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        request_id = request.get("id")
        handler = getattr(peer, "op_%s" % request.get("op"), None)
        if handler is None:
            raise ValueError("unknown op %r" % (request.get("op"),))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = handler(request)
        if caught:
            result["warnings"] = [str(warning.message) for warning in caught]
        return {"id": request_id, **result}
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        return {"id": request_id, "error": str(error) or repr(error), "type": type(error).__name__}


def main():
    try:
        peer = Peer(json.loads(sys.argv[1]))
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        reply({"fatal": str(error) or repr(error), "type": type(error).__name__})
        sys.exit(1)
    reply({"ready": True, "django": peer.django_version, "python": sys.version.split()[0], "pid": os.getpid()})
    for line in iter(sys.stdin.readline, ""):  # ends when Node closes stdin or dies
        if line.strip():
            reply(answer(peer, line))


if __name__ == "__main__":
    main()
