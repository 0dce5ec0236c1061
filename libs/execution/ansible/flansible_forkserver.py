# -*- coding: utf-8 -*-
# Flansible's warm runner: a fork server that imports Ansible once, then forks each job from
# itself, so a job skips the interpreter start and the imports (about half of a short job).
#
#   <python of ansible> flansible_forkserver.py <socket path>
#
# The runner starts it with the job environment (child-env.ts) in an empty directory, reads one
# line `{"ready": ...}` from its stdout, and keeps its stdin open: end of file there (the runner is
# gone, by any means) ends the server. The server itself never runs a job; each job is a forked
# child that becomes what the cold path starts (flansible_launch.py): its own session and process
# group, its own argv, environment and working directory, /dev/null on stdin and the runner's
# sockets on stdout, stderr and the events descriptor 3.
#
# One job, over the socket (every message one JSON line):
#   runner -> control connection: {"job": id, "argv": [...], "env": {...}, "cwd": ..., "streams": [...]}
#   runner -> one connection per stream: {"job": id, "stream": "stdout" | "stderr" | "events"}
#   child  -> control: {"pid": n} (its pid is the job's process group), or {"cold": why}: the job
#             would not see the configuration this server imported, so the runner runs it cold
#   runner -> control: "go"      (nothing runs before it: a runner that gave up closes instead)
#   child  -> control: {"status": s} when the job has ended (s < 0: killed by signal -s)
# The child stays behind as the job's supervisor, as on the cold path: the end of the control
# connection (the runner died) kills the job's whole process group.
from __future__ import absolute_import, division, print_function

import fcntl
import gc
import json
import os
import selectors
import signal
import socket
import sys

import flansible_launch as launch

MAX_HEADER_BYTES = 1 << 20
STREAMS = ('stdout', 'stderr', 'events')
STREAM_FD = {'stdout': 1, 'stderr': 2, 'events': 3}
# Modules whose payload sources the server parses once (parse_module_sources_once).
PARSED_MODULES = ('ping', 'command', 'setup', 'copy', 'file', 'stat', 'lineinfile', 'service', 'systemd', 'package', 'apt')
PRELOADED_PLUGIN_KINDS = (
    'action', 'become', 'cache', 'callback', 'connection', 'filter', 'inventory', 'lookup', 'shell', 'strategy', 'test', 'vars',
)
# Ansible reads this setting as "a new directory for this process": every job gets its own.
LOCAL_TMP = 'DEFAULT_LOCAL_TMP'


class Server(object):
    def __init__(self, path):
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(path):
            os.unlink(path)
        self.listener.bind(path)
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, 'accept')
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, 'runner')
        # Connections whose first line has not arrived: socket -> bytes so far.
        self.reading = {}
        # Jobs whose connections have not all arrived: id -> {'request', 'control', 'streams'}.
        self.jobs = {}

    def serve(self):
        while True:
            for key, _ in self.selector.select():
                if key.data == 'runner':
                    if not os.read(sys.stdin.fileno(), 4096):
                        return
                elif key.data == 'accept':
                    self.accept()
                elif key.data == 'header':
                    self.read_header(key.fileobj)
                else:
                    self.give_up(key.data[1])

    def accept(self):
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        self.reading[conn] = b''
        self.selector.register(conn, selectors.EVENT_READ, 'header')

    def drop(self, conn):
        self.selector.unregister(conn)
        self.reading.pop(conn, None)
        conn.close()

    def read_header(self, conn):
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b''
        if not data:
            return self.drop(conn)
        buffered = self.reading[conn] + data
        if b'\n' not in buffered:
            if len(buffered) > MAX_HEADER_BYTES:
                return self.drop(conn)
            self.reading[conn] = buffered
            return
        line, rest = buffered.split(b'\n', 1)
        try:
            header = json.loads(line.decode('utf-8'))
            job_id = str(header['job'])
        except (ValueError, KeyError, TypeError):
            return self.drop(conn)
        if rest:
            return self.drop(conn)  # the runner says nothing more before the job's answer
        del self.reading[conn]
        job = self.jobs.setdefault(job_id, {'request': None, 'control': None, 'streams': {}})
        if header.get('stream') in STREAMS and header['stream'] not in job['streams']:
            job['streams'][header['stream']] = conn
        elif 'argv' in header and job['control'] is None:
            job['request'], job['control'] = header, conn
        else:
            self.selector.unregister(conn)
            return conn.close()
        # Until the job starts, anything on its connections means the runner gave up on it.
        self.selector.modify(conn, selectors.EVENT_READ, ('waiting', job_id))
        request = job['request']
        if request is not None and set(request.get('streams', ())) <= set(job['streams']):
            self.fork(self.forget(job_id))

    def forget(self, job_id):
        job = self.jobs.pop(job_id)
        for conn in self.connections(job):
            self.selector.unregister(conn)
            conn.setblocking(True)
        return job

    def give_up(self, job_id):
        for conn in self.connections(self.forget(job_id)):
            conn.close()

    @staticmethod
    def connections(job):
        return [conn for conn in [job['control']] + list(job['streams'].values()) if conn is not None]

    def fork(self, job):
        if os.fork() == 0:
            self.close_in_child()
            start_job(job)  # returns only in the job's own process: Ansible then exits as usual
            return
        for conn in self.connections(job):
            conn.close()

    def close_in_child(self):
        """The child holds only its own job's connections."""
        for other in self.jobs.values():
            for conn in self.connections(other):
                conn.close()
        for conn in self.reading:
            conn.close()
        self.selector.close()
        self.listener.close()


def answer(lifeline, message):
    lifeline.sendall((json.dumps(message) + '\n').encode('utf-8'))


def config_difference(imported):
    """Why Ansible would read a configuration other than the imported one here (None: the same)."""
    from ansible import constants as C
    from ansible.config.manager import ConfigManager

    # The definitions (base.yml) are Ansible's own, read once by the server: a fresh copy of them.
    read_yaml = ConfigManager._read_config_yaml_file
    ConfigManager._read_config_yaml_file = lambda self, path: _base_defs if path == _base_defs_path else read_yaml(self, path)
    try:
        fresh = ConfigManager()
    finally:
        ConfigManager._read_config_yaml_file = read_yaml
    if fresh._config_file != C.config._config_file:
        return 'its configuration file is %s, the warm one %s' % (fresh._config_file, C.config._config_file)
    if fresh._config_file is not None and _read(fresh._config_file) != imported:
        return 'its configuration file %s changed' % fresh._config_file
    if fresh.WARNINGS:
        return 'reading its configuration warns'
    known = dict(vars(C))
    for name in fresh.get_configuration_definitions():
        if name != LOCAL_TMP and fresh.get_config_value(name, variables=known) != getattr(C, name, None):
            return 'its setting %s differs' % name
    return None


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def _read_line(conn):
    data = b''
    while not data.endswith(b'\n') and len(data) < 64:
        chunk = conn.recv(64)
        if not chunk:
            break
        data += chunk
    return data.strip()


def _move_high(fd):
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


def start_job(job):
    """In the forked child: becomes the job's leader, then its supervisor (see the top)."""
    # A new interpreter's signal dispositions.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    request = job['request']
    lifeline_fd = _move_high(job['control'].fileno())
    stream_fds = dict((name, _move_high(conn.fileno())) for name, conn in job['streams'].items())
    job['control'].close()
    for conn in job['streams'].values():
        conn.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for name, fd in stream_fds.items():
        os.dup2(fd, STREAM_FD[name])
        os.close(fd)
    if 'events' not in stream_fds:
        try:
            os.close(STREAM_FD['events'])
        except OSError:
            pass
    lifeline = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=lifeline_fd)
    try:
        os.chdir(request['cwd'])
    except OSError as err:
        answer(lifeline, {'cold': 'its working directory: %s' % err.strerror})
        os._exit(0)
    os.environ.clear()
    os.environ.update(request['env'])
    why = config_difference(_imported_config)
    if why:
        answer(lifeline, {'cold': why})
        os._exit(0)
    answer(lifeline, {'pid': os.getpid()})
    if _read_line(lifeline) != b'go':
        os._exit(0)
    launch.take_settings()
    child = os.fork()
    if child == 0:
        lifeline.close()
        become_fresh()
        argv = request['argv']
        sys.exit(launch.run_ansible(argv[0], argv[1:]))
    supervise(lifeline, child)


def become_fresh():
    """What a cold start has and a fork of the server would share with other jobs."""
    import atexit
    import random
    from ansible import constants as C
    from ansible.config import manager
    from ansible.utils import vars as ansible_vars
    from ansible.utils.display import Display

    # The server's own local temporary directory stays the server's; the job makes its own, as
    # Ansible does when it starts, and removes it when it exits.
    atexit.unregister(manager.cleanup_tmp_file)
    setattr(C, LOCAL_TMP, C.config.get_config_value(LOCAL_TMP, variables=dict(vars(C))))
    # Task and play ids: drawn at import; a job's must not repeat another job's.
    ansible_vars.random_int = ('%08x' % random.randint(0, ansible_vars._MAXSIZE))[:8]
    display = Display()
    for seen in ('_deprecations', '_warns', '_errors'):
        getattr(display, seen, {}).clear()


def supervise(lifeline, child):
    """Waits for the job; the end of the lifeline (the runner died) kills its whole group."""
    import select

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a cancel's SIGTERM is the job's to answer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    poller = select.poll()
    poller.register(lifeline.fileno(), select.POLLIN)
    try:
        pidfd = os.pidfd_open(child)
        poller.register(pidfd, select.POLLIN)
        wait_ms = None
    except (AttributeError, OSError):
        wait_ms = 50
    while True:
        for fd, _ in poller.poll(wait_ms):
            if fd == lifeline.fileno():
                try:
                    data = lifeline.recv(64)
                except OSError:
                    data = b''
                if not data:
                    os.killpg(os.getpgrp(), signal.SIGKILL)
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            break
    try:
        answer(lifeline, {'status': os.waitstatus_to_exitcode(status)})
    except OSError:
        pass
    os._exit(0)


def preload():
    """Imports what every job imports: Ansible's CLI and executor, and what its plugins import."""
    import importlib
    import pkgutil

    import ansible.cli.adhoc  # noqa: F401
    import ansible.cli.playbook  # noqa: F401
    import ansible.executor.process.worker  # noqa: F401

    # A plugin module itself is forgotten again: Ansible loads a plugin by name from the first
    # directory that has it (a playbook's or role's callback_plugins/, action_plugins/, ...), and
    # a builtin one already in sys.modules would win over a job's own. The libraries the builtin
    # plugins import (yaml, jinja2 extras, xml, module_utils, ...) stay imported.
    for kind in PRELOADED_PLUGIN_KINDS:
        package = importlib.import_module('ansible.plugins.' + kind)
        for found in pkgutil.iter_modules(package.__path__):
            name = '%s.%s' % (package.__name__, found.name)
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception:  # an optional dependency is missing: the job will find out itself
                pass
            sys.modules.pop(name, None)
            if hasattr(package, found.name):
                delattr(package, found.name)


def parse_module_sources_once():
    """
    Building a module's payload (AnsiballZ) parses the module and every module_utils file it
    imports into an AST, for every task of every job: about a third of a short job. The server
    parses the common modules' sources once; a forked job's parse of a byte-for-byte identical
    source gets that AST (the same one compile would return: ModuleDepFinder only reads it and
    sets each node's parent), any other source is parsed as usual.
    """
    import ast
    import builtins
    import zipfile
    from io import BytesIO

    import ansible.modules
    from ansible.executor import module_common

    trees = {}

    def compile_once(source, filename, mode, flags=0, *args, **kwargs):
        if flags != ast.PyCF_ONLY_AST or mode != 'exec' or args or kwargs or not isinstance(source, bytes):
            return builtins.compile(source, filename, mode, flags, *args, **kwargs)
        tree = trees.get(source)
        if tree is None:
            tree = trees[source] = builtins.compile(source, filename, mode, flags)
        return tree

    module_common.compile = compile_once
    # Read from Ansible's own modules directory (not through its plugin loader, whose caches a job
    # must build itself: a job's library/ may hold a module of the same name).
    modules_dir = os.path.dirname(ansible.modules.__file__)
    for name in PARSED_MODULES:
        try:
            with open(os.path.join(modules_dir, name + '.py'), 'rb') as f:
                data = f.read()
            fqn = 'ansible.modules.%s' % name
            module_common.recursive_finder(name, fqn, data, zipfile.ZipFile(BytesIO(), mode='w'))
        except Exception:  # a job that uses it parses it itself
            pass


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: flansible_forkserver.py <socket path>\n')
        return 2
    global _imported_config, _base_defs, _base_defs_path
    from ansible import constants as C
    from ansible.config import manager

    preload()
    parse_module_sources_once()
    _imported_config = _read(C.CONFIG_FILE) if C.CONFIG_FILE else None
    _base_defs_path = '%s/base.yml' % os.path.dirname(manager.__file__)
    _base_defs = C.config._read_config_yaml_file(_base_defs_path)
    server = Server(sys.argv[1])
    # Children are reaped by the kernel; the runner alone ends the server (SIGTERM, or its stdin).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()  # objects of the imports stay shared with the children, not copied on write
    sys.stdout.write(json.dumps({'ready': True, 'pid': os.getpid(), 'configFile': C.CONFIG_FILE}) + '\n')
    sys.stdout.flush()
    server.serve()
    return 0


_imported_config = None
# base.yml as read, untouched: each forked child's check uses (and may change) its own copy.
_base_defs = None
_base_defs_path = None

if __name__ == '__main__':
    sys.exit(main())
