"""`ansible-inventory --inventory=INV --list` for several inventories, paying Ansible's import once.

Usage: python flansible_list_inventories.py TIMEOUT_SECONDS INVENTORY...

Run with the interpreter of `ansible` on PATH (its shebang), in the environment and working
directory the gateway would give ansible-inventory. Ansible is imported once (its configuration
is read then, from the same environment and directory a fresh ansible-inventory would read it
from); each inventory is then listed by a forked child that runs ansible-inventory's own entry
point with that argv, in a session of its own: no inventory sees another's state, and one that
runs past TIMEOUT_SECONDS has its whole group killed.

Prints one JSON object: {INVENTORY: {"list": <what --list printed>} or {"error": "..."}}.
"""
import json
import os
import signal
import sys
import tempfile
import time

current_child = None


def stop(signum, _frame):
    """The gateway stops: so does the inventory being listed, with everything it started."""
    if current_child is not None:
        try:
            os.killpg(current_child, signal.SIGKILL)
        except OSError:
            pass
    os._exit(128 + signum)


def run_child(inventory_main, inventory, out, err):
    """In the forked child: exactly `ansible-inventory --inventory=INVENTORY --list`."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        args = ['ansible-inventory', '--inventory=' + inventory, '--list']
        sys.argv = args
        inventory_main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: B902 - reported through the exit code and stderr
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def list_one(inventory_main, inventory, timeout):
    global current_child
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            run_child(inventory_main, inventory, out, err)
        current_child = pid
        deadline = time.monotonic() + timeout
        status = None
        while status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = raw
            elif time.monotonic() > deadline:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                current_child = None
                return {'error': 'ansible-inventory took longer than %g s' % timeout}
            else:
                time.sleep(0.005)
        current_child = None
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode('utf-8', 'replace')
        stderr = err.read().decode('utf-8', 'replace').strip()
        if code != 0:
            return {'error': 'ansible-inventory exited with %d: %s' % (code, stderr.splitlines()[0] if stderr else 'no message')}
        try:
            return {'list': json.loads(stdout)}
        except ValueError:
            return {'error': 'ansible-inventory printed no JSON'}


def main(argv):
    if len(argv) < 1:
        sys.stderr.write(__doc__)
        return 2
    timeout = float(argv[0])
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # What /usr/bin/ansible-inventory imports and calls.
    from ansible.cli.inventory import main as inventory_main

    results = {}
    for inventory in argv[1:]:
        results[inventory] = list_one(inventory_main, inventory, timeout)
    sys.stdout.write(json.dumps(results))
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
