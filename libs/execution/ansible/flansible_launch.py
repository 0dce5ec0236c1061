# -*- coding: utf-8 -*-
# Flansible: starts `ansible` / `ansible-playbook` exactly as their own scripts do, after installing
# the Flansible guard inside Ansible when the runner asks for it (a non-admin's job), and the
# host list of a relaunch when the job has one (anyone's).
#
#   <python of ansible> flansible_launch.py ansible|ansible-playbook <arguments...>
#   <python of ansible> flansible_launch.py --exec <program> <arguments...>     (git)
#
# The warm runner (flansible_forkserver.py) runs the same code in a forked child instead: it calls
# take_settings() and run_ansible(), and supervises the job itself (flansible_warm_job.py).
#
# Supervision: when the runner names itself in FLANSIBLE_SUPERVISOR_PARENT, this process stays
# behind as a small supervisor, the leader of the job's process group, and the job runs in a
# forked child. The kernel tells the supervisor when the runner dies, by any means (kill -9, OOM,
# a crash: prctl PR_SET_PDEATHSIG), and it then kills the whole group — Ansible, its forked
# workers and the modules they started — so no job goes on with nobody watching it. Cancel and
# timeouts are unchanged: the runner signals the group; the supervisor waits for the job and
# exits as it did.
#
# The guard decides from what Ansible itself resolves, not from request strings:
# - hosts: every host a play runs on, every host a task is queued for, and every delegation
#   target must be declared by the job's inventory (as parsed by Ansible's own inventory
#   manager when the job started). Ansible's implicit localhost and hosts added at run time
#   (add_host) are not declared, whatever spelling reached them (`::1`, `localhost[0]`,
#   `{{ target }}`, `delegate_to`, unions, subscripts). An inventory that lists localhost (or
#   127.0.0.1, ::1) declares it, and Ansible then resolves all three names to that host.
# - ad-hoc module arguments: the module Ansible resolved and the arguments its own parser read
#   are held to the rules the gateway applies (libs/contracts module-argument-rules.ts), so a
#   `key=value` spelling the gateway did not foresee is still refused.
# A refusal writes its reason to FLANSIBLE_GUARD_REPORT, prints it, and kills the job's whole
# process group at once: nothing runs on the refused host, and nothing after it.
#
# A relaunch's hosts (FLANSIBLE_LIMIT_HOSTS: a JSON file listing host names) narrow every host
# selection that --limit narrows, to hosts with exactly those names. They are names taken from
# the first run's results, never patterns: through --limit (even one host a line in a limit
# file) Ansible would read `web*` as a glob, `!web1` or `&web2` as an exclusion or intersection
# (alone they select every host), `~web` as a regex, and a name the inventory no longer holds as
# a pattern. The job's own --limit still applies as Ansible reads it: the run reaches only hosts
# both select.
from __future__ import absolute_import, division, print_function

import json
import os
import signal
import sys

GUARD_ENV = 'FLANSIBLE_GUARD'
REPORT_ENV = 'FLANSIBLE_GUARD_REPORT'
LIMIT_HOSTS_ENV = 'FLANSIBLE_LIMIT_HOSTS'
BOOLEANS_TRUE = frozenset(('y', 'yes', 'on', '1', 'true', 't'))
BUILTIN_PREFIXES = ('ansible.builtin.', 'ansible.legacy.')
ANSIBLE_PROGRAMS = ('ansible', 'ansible-playbook')

# The job's settings (take_settings): read once, then removed from the environment, so no module
# or host ever sees them.
_policy = None
_report_path = None
_limit_hosts_path = None
# Hosts the job's inventory declares: name -> its ansible_host (or None).
_declared = {}
# Whether the inventory lists a localhost-like host (localhost, 127.0.0.1 or ::1): Ansible then
# resolves each of those names to it instead of creating its implicit localhost.
_localhost = {'listed': False, 'names': frozenset()}
# Ansible's main process (workers are forked from it and share its process group); the forked
# child when supervised.
_launcher_pid = None
SUPERVISOR_ENV = 'FLANSIBLE_SUPERVISOR_PARENT'
PR_SET_PDEATHSIG = 1


def refuse(reason):
    """Records why, then stops the whole job (this process group) before anything else runs."""
    message = 'Flansible refused the job: %s' % reason
    if _report_path:
        try:
            fd = os.open(_report_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, message.encode('utf-8'))
            os.close(fd)
        except OSError:
            pass
    try:
        os.write(2, ('ERROR! %s\n' % message).encode('utf-8'))
    except OSError:
        pass
    if _job_group is not None:
        # The runner started the job as its own process group: stop all of it.
        os.killpg(_job_group, signal.SIGKILL)
    else:
        os.kill(_launcher_pid, signal.SIGKILL)
    os._exit(1)


# The job's process group when this process leads it (the runner, or the warm runner's fork
# server, always makes it the leader).
_job_group = None


def take_settings():
    """Reads the job's settings from the environment and removes them; before supervise() forks."""
    global _policy, _report_path, _limit_hosts_path, _launcher_pid, _job_group
    _policy = json.loads(os.environ.pop(GUARD_ENV, '') or 'null')
    _report_path = os.environ.pop(REPORT_ENV, None)
    _limit_hosts_path = os.environ.pop(LIMIT_HOSTS_ENV, None)
    _launcher_pid = os.getpid()
    _job_group = os.getpgrp() if os.getpgrp() == os.getpid() else None


def _set_parent_death_signal(sig):
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def supervise():
    """Forks the job off; this process stays as its supervisor and never returns (see the top)."""
    global _launcher_pid
    parent = int(os.environ.pop(SUPERVISOR_ENV, '') or 0)
    if not parent or _job_group is None:
        return
    child = os.fork()
    if child == 0:
        _launcher_pid = os.getpid()
        return
    def kill_group(*_):
        os.killpg(_job_group, signal.SIGKILL)  # this process included

    signal.signal(signal.SIGUSR1, kill_group)
    # A cancel's SIGTERM reaches the whole group: the job ends itself, the supervisor reports how.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Where prctl is missing the job runs unwatched (the runner says so at start).
    _set_parent_death_signal(signal.SIGUSR1)
    if os.getppid() != parent:
        kill_group()  # the runner died before the death signal was armed
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _is_true(value):
    if value is True or value == 1:
        return True
    return str(value).strip().lower() in BOOLEANS_TRUE


def check_host(host, what):
    """`host` (a Host or a name) must be a host the inventory declared."""
    name = getattr(host, 'name', host)
    if getattr(host, 'implicit', False) or name not in _declared:
        refuse('%s %s is not declared in the job\'s inventory' % (what, name))


def check_delegation(name):
    if name in _declared:
        return
    # Ansible resolves a localhost name to the inventory's own localhost when it lists one, else
    # to its implicit localhost (connection local: the Flansible host, as the service user). It
    # never looks at addresses for these names, so a declared host whose ansible_host is
    # 127.0.0.1 does not make a delegation to 127.0.0.1 reach that host.
    if name in _localhost['names']:
        if _localhost['listed']:
            return
    # A declared host may be named by its address.
    elif any(address is not None and address == name for address in _declared.values()):
        return
    refuse('delegation target %s is not declared in the job\'s inventory' % name)


def _short(action):
    for prefix in BUILTIN_PREFIXES:
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def check_module_args(task):
    rules = _policy.get('moduleArgumentRules')
    if not rules:
        return
    names = set(filter(None, (getattr(task, 'action', None), getattr(task, 'resolved_action', None))))
    for name in names:
        rule = rules.get(_short(name))
        if rule is None:
            continue
        module = _short(name)
        if rule.get('wholeModule'):
            refuse('module %s %s' % (module, rule['why']))
        args = task.args or {}
        safe_when = rule.get('safeWhenTrue')
        if safe_when is not None:
            value = args.get(safe_when, rule.get('safeByDefault', False))
            if _is_true(value):
                continue
        for param in rule.get('params', ()):
            if param in args:
                refuse('module %s parameter %s %s' % (module, param, rule['why']))


def install_guard():
    from ansible import constants
    from ansible.executor.play_iterator import PlayIterator
    from ansible.executor.task_executor import TaskExecutor
    from ansible.inventory.manager import InventoryManager
    from ansible.plugins.strategy import StrategyBase

    _localhost['names'] = frozenset(constants.LOCALHOST)
    parse_sources = InventoryManager.parse_sources

    def guarded_parse_sources(self, *args, **kwargs):
        result = parse_sources(self, *args, **kwargs)
        # Parsed sources (also on refresh_inventory) declare hosts; add_host later does not.
        for name, host in self._inventory.hosts.items():
            if not getattr(host, 'implicit', False):
                _declared[name] = host.vars.get('ansible_host')
        localhost = self._inventory.localhost
        _localhost['listed'] = localhost is not None and not getattr(localhost, 'implicit', False)
        return result

    InventoryManager.parse_sources = guarded_parse_sources

    play_iterator_init = PlayIterator.__init__

    def guarded_play_iterator_init(self, inventory, play, *args, **kwargs):
        # Every host of the play, after --limit, before its first task.
        for host in inventory.get_hosts(play.hosts, order=play.order):
            check_host(host, 'host')
        play_iterator_init(self, inventory, play, *args, **kwargs)

    PlayIterator.__init__ = guarded_play_iterator_init

    queue_task = StrategyBase._queue_task

    def guarded_queue_task(self, host, task, task_vars, play_context):
        check_host(host, 'host')
        if _policy.get('adhoc'):
            check_module_args(task)
        # Ansible resolved the delegation targets of every loop item into these keys.
        for name in (task_vars.get('ansible_delegated_vars') or {}):
            check_delegation(name)
        return queue_task(self, host, task, task_vars, play_context)

    StrategyBase._queue_task = guarded_queue_task

    get_connection = TaskExecutor._get_connection

    def guarded_get_connection(self, cvars, templar, current_connection):
        # The last word, in the worker, with the task's final (templated) delegation target.
        check_host(self._host, 'host')
        if self._task.delegate_to:
            check_delegation(self._task.delegate_to)
        return get_connection(self, cvars, templar, current_connection)

    TaskExecutor._get_connection = guarded_get_connection


def install_host_limit(path):
    """Every host selection --limit applies to keeps only hosts named in the file (see the top)."""
    from ansible.inventory.manager import InventoryManager

    with open(path, 'rb') as f:
        names = json.loads(f.read().decode('utf-8'))
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError('%s must hold a non-empty JSON list of host names' % LIMIT_HOSTS_ENV)
    names = frozenset(names)
    get_hosts = InventoryManager.get_hosts

    def limited_get_hosts(self, pattern='all', ignore_limits=False, ignore_restrictions=False, order=None):
        hosts = get_hosts(self, pattern, ignore_limits=ignore_limits, ignore_restrictions=ignore_restrictions, order=order)
        # Where Ansible ignores --limit (every host's variables for hostvars), so does this.
        return hosts if ignore_limits else [h for h in hosts if h.name in names]

    InventoryManager.get_hosts = limited_get_hosts


def main():
    take_settings()
    if len(sys.argv) >= 3 and sys.argv[1] == '--exec':
        supervise()
        os.execvp(sys.argv[2], sys.argv[2:])
    if len(sys.argv) < 2 or sys.argv[1] not in ANSIBLE_PROGRAMS:
        sys.stderr.write('usage: flansible_launch.py ansible|ansible-playbook|--exec program [arguments]\n')
        return 2
    supervise()
    return run_ansible(sys.argv[1], sys.argv[2:])


def run_ansible(program, args):
    """Runs `program args` as its own script would, with the relaunch's hosts and the guard installed."""
    if _limit_hosts_path is not None:
        try:
            install_host_limit(_limit_hosts_path)
        except (OSError, ValueError) as err:
            # Never run a relaunch on more hosts than it names.
            sys.stderr.write('ERROR! Flansible could not read the hosts of this relaunch: %s\n' % err)
            return 1
    if _policy is not None:
        install_guard()
    sys.argv = [program] + list(args)
    if program == 'ansible':
        from ansible.cli.adhoc import main as cli_main
    else:
        from ansible.cli.playbook import main as cli_main
    return cli_main()


if __name__ == '__main__':
    sys.exit(main())
