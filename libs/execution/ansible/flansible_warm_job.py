# -*- coding: utf-8 -*-
# Flansible's warm runner: one job, in the child the fork server (flansible_forkserver.py) forked
# for it. The child becomes what the cold path starts — the leader of its own session and process
# group, with the job's argv, environment, working directory and descriptors — checks that Ansible
# would read the configuration the server imported, and waits for the runner's `go`. Then it forks
# the job itself (Ansible, through flansible_launch.py's own code) and stays behind as its
# supervisor: it reports how the job ended, and the end of the control connection (the runner
# died, by any means) kills the job's whole process group. The protocol is at the top of
# flansible_forkserver.py.
from __future__ import absolute_import, division, print_function

import fcntl
import json
import os
import signal
import socket
import sys

import flansible_launch as launch

STREAM_FD = {'stdout': 1, 'stderr': 2, 'events': 3}
# Ansible reads this setting as "a new directory for this process": every job gets its own.
LOCAL_TMP = 'DEFAULT_LOCAL_TMP'

# What the server imported (remember_imported_config): the configuration file's bytes, and
# base.yml as read, untouched (each forked child's check uses, and may change, its own copy).
_imported_config = None
_base_defs = None
_base_defs_path = None


def remember_imported_config():
    """In the server, after the imports: what each job's configuration is compared with."""
    global _imported_config, _base_defs, _base_defs_path
    from ansible import constants as C
    from ansible.config import manager

    _imported_config = _read(C.CONFIG_FILE) if C.CONFIG_FILE else None
    _base_defs_path = '%s/base.yml' % os.path.dirname(manager.__file__)
    _base_defs = C.config._read_config_yaml_file(_base_defs_path)


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
    try:
        why = config_difference(_imported_config)
    except Exception as err:  # Ansible cannot read its configuration here: the cold path says why
        why = 'its configuration could not be read (%s)' % err
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
    fresh_cross_process_locks()


def cross_process_locks():
    """Ansible's multiprocessing locks, by name: module payload builds (None: the generic one) and encryption."""
    from ansible.executor import action_write_locks
    from ansible.utils import encrypt

    return dict(((str(name), lock) for name, lock in action_write_locks.action_write_locks.items()), encrypt=encrypt._LOCK)


def fresh_cross_process_locks():
    """
    Ansible's multiprocessing locks live in memory a fork shares: those made at import would be
    one lock for every job of the server, and a job killed while holding one (a cancel during a
    module build) would block every later job for ever. Each job gets its own, as each cold start
    does.
    """
    import multiprocessing
    from ansible.executor import action_write_locks
    from ansible.utils import encrypt

    locks = action_write_locks.action_write_locks
    for name in list(locks):
        locks[name] = multiprocessing.Lock()
    encrypt._LOCK = multiprocessing.Lock()


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
