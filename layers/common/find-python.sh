#!/bin/sh
# Prints the path of a CPython interpreter of version $1 (e.g. 3.13), or fails saying what to
# install. The layer's bytecode must come from the runtime's own version: a .pyc is tagged with
# the interpreter that wrote it (cpython-313), and Lambda ignores any other tag.
#
# Looked for, in order: $PYC_PYTHON (must be that version, else an error), `pythonX.Y` on PATH,
# pyenv's installed versions ($PYENV_ROOT/versions/X.Y*, not its shim, which `.python-version`
# may pin to another version), uv's managed interpreters, and the usual install prefixes.
set -u
want="${1:?usage: find-python.sh X.Y}"
check='import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(v != sys.argv[1] or sys.implementation.name != "cpython")'

is_target() { [ -x "$1" ] && "$1" -c "$check" "$want" >/dev/null 2>&1; }

if [ -n "${PYC_PYTHON:-}" ]; then
	if is_target "$(command -v "$PYC_PYTHON" 2>/dev/null || echo "$PYC_PYTHON")"; then
		command -v "$PYC_PYTHON" 2>/dev/null || echo "$PYC_PYTHON"
		exit 0
	fi
	echo "find-python.sh: PYC_PYTHON=$PYC_PYTHON is not a CPython $want interpreter" >&2
	exit 1
fi

pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
uv_root="${UV_PYTHON_INSTALL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/uv/python}"
on_path="$(command -v "python$want" 2>/dev/null || true)"
# Newest patch release first among the pyenv and uv installs.
for candidate in \
	"$on_path" \
	$(ls -d "$pyenv_root"/versions/"$want"* 2>/dev/null | sort -rV | sed "s|\$|/bin/python$want|") \
	$(ls -d "$uv_root"/cpython-"$want"* 2>/dev/null | sort -rV | sed "s|\$|/bin/python$want|") \
	"/usr/local/bin/python$want" "/usr/bin/python$want" \
	"/opt/homebrew/bin/python$want" "/Library/Frameworks/Python.framework/Versions/$want/bin/python$want"
do
	if [ -n "$candidate" ] && is_target "$candidate"; then
		echo "$candidate"
		exit 0
	fi
done

cat >&2 <<MSG
find-python.sh: no CPython $want interpreter found, and the layer must ship bytecode compiled by
one (without it every cold start compiles the sources: 3x slower INIT). Install Python $want
(pyenv install $want, uv python install $want, apt-get install python$want, brew install
python@$want) or set PYC_PYTHON=/path/to/python$want.
MSG
exit 1
