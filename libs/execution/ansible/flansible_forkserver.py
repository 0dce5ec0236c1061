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
# connection (the runner died) kills the job's whole process group. The child's side of all this
# is flansible_warm_job.py.
from __future__ import absolute_import, division, print_function

import gc
import json
import os
import selectors
import signal
import socket
import sys

import flansible_warm_job as warm_job

MAX_HEADER_BYTES = 1 << 20
STREAMS = ('stdout', 'stderr', 'events')
# Modules whose payload sources the server parses once (parse_module_sources_once).
PARSED_MODULES = ('ping', 'command', 'setup', 'copy', 'file', 'stat', 'lineinfile', 'service', 'systemd', 'package', 'apt')
PRELOADED_PLUGIN_KINDS = (
    'action', 'become', 'cache', 'callback', 'connection', 'filter', 'inventory', 'lookup', 'shell', 'strategy', 'test', 'vars',
)


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
            warm_job.start_job(job)  # returns only in the job's own process: Ansible then exits as usual
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
    from ansible import constants as C

    preload()
    parse_module_sources_once()
    warm_job.remember_imported_config()
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


if __name__ == '__main__':
    sys.exit(main())
