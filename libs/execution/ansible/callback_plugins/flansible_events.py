# -*- coding: utf-8 -*-
# Flansible: structured job events for the runner (libs/execution). Enabled by the runner only.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: flansible_events
    type: aggregate
    short_description: Writes structured job events as JSON lines for Flansible
    description:
      - Writes one JSON object per line (play, task and per-host results, final stats) to the file
        descriptor named by the FLANSIBLE_EVENTS_FD environment variable, a pipe the Flansible
        runner reads. Does nothing when the variable is not set.
      - The human output (the stdout callback) is left as it is.
    requirements:
      - enabled in callbacks_enabled (ANSIBLE_CALLBACKS_ENABLED=flansible_events)
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Event details stay small: a whole result (a registered stdout, a module's payload) belongs to the
# human output, not to every event row.
MAX_TEXT_CHARS = 2048
MAX_ITEM_CHARS = 1024


def _text(value, limit=MAX_TEXT_CHARS):
    if value is None:
        return None
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
        except Exception:
            value = repr(value)
    if len(value) > limit:
        return value[:limit] + '... [%d characters more]' % (len(value) - limit)
    return value


def _small_json(value, limit=MAX_ITEM_CHARS):
    """The value itself when JSON can carry it and it is small; otherwise a (truncated) text form."""
    try:
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except Exception:
        return _text(repr(value), limit)
    if len(encoded) > limit:
        return _text(encoded, limit)
    return value


def _host(result):
    try:
        return result._host.get_name()
    except Exception:
        return None


def _task_name(task):
    try:
        name = task.get_name()
        return name.strip() if name else None
    except Exception:
        return None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'flansible_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._out = None
        fd = os.environ.get('FLANSIBLE_EVENTS_FD')
        if not fd:
            self.disabled = True
            return
        try:
            fd = int(fd)
            # Modules and other programs Ansible starts must not inherit (and hold open) the pipe.
            os.set_inheritable(fd, False)
            # closefd=False: a second instance of the plugin must not close the pipe under the first.
            self._out = os.fdopen(fd, 'w', buffering=1, encoding='utf-8', errors='replace', closefd=False)
        except Exception:
            # No usable pipe: run without events rather than fail the job.
            self.disabled = True

    def _emit(self, event_type, host=None, task=None, **data):
        if self._out is None:
            return
        try:
            line = json.dumps(
                {'type': event_type, 'host': host, 'task': task, 'at': time.time(), 'data': data},
                ensure_ascii=False,
                default=repr,
            )
            self._out.write(line + '\n')
            self._out.flush()
        except Exception:
            # The reader is gone (or the data is unwritable): never disturb the run or its output.
            self._out = None
            self.disabled = True

    # playbook and play

    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, '_file_name', None)
        if name == '__adhoc_playbook__':
            name = None
        self._emit('playbook_start', playbook=name)

    def v2_playbook_on_play_start(self, play):
        hosts = play.hosts
        if isinstance(hosts, (list, tuple)):
            hosts = ','.join(str(h) for h in hosts)
        self._emit('play_start', name=_text(play.get_name().strip(), 512), hosts=_text(hosts, 512))

    # tasks

    def _task_start(self, task, **extra):
        self._emit('task_start', task=_task_name(task), action=task.action, **extra)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    # per-host results

    def v2_runner_on_ok(self, result):
        self._emit('host_ok', _host(result), _task_name(result._task), changed=bool(result._result.get('changed', False)))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        res = result._result
        data = {
            'msg': _text(res.get('msg')),
            'rc': res.get('rc') if isinstance(res.get('rc'), int) else None,
            'ignore_errors': bool(ignore_errors),
        }
        for key in ('stderr', 'stdout'):
            if res.get(key):
                data[key] = _text(res.get(key))
        self._emit('host_failed', _host(result), _task_name(result._task), **data)

    def v2_runner_on_skipped(self, result):
        reason = result._result.get('skip_reason')
        self._emit('host_skipped', _host(result), _task_name(result._task), **({'reason': _text(reason, 512)} if reason else {}))

    def v2_runner_on_unreachable(self, result):
        self._emit('host_unreachable', _host(result), _task_name(result._task), msg=_text(result._result.get('msg')))

    # loop items

    def _item(self, event_type, result, **extra):
        res = result._result
        self._emit(
            event_type,
            _host(result),
            _task_name(result._task),
            item=_small_json(self._get_item_label(res)),
            changed=bool(res.get('changed', False)),
            **extra
        )

    def v2_runner_item_on_ok(self, result):
        self._item('item_ok', result)

    def v2_runner_item_on_failed(self, result):
        res = result._result
        self._item('item_failed', result, msg=_text(res.get('msg')), rc=res.get('rc') if isinstance(res.get('rc'), int) else None)

    def v2_runner_item_on_skipped(self, result):
        self._item('item_skipped', result)

    # the end

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            summary = stats.summarize(host)
            hosts[host] = {
                'ok': summary.get('ok', 0),
                'changed': summary.get('changed', 0),
                'failures': summary.get('failures', 0),
                'unreachable': summary.get('unreachable', 0),
                'skipped': summary.get('skipped', 0),
                'rescued': summary.get('rescued', 0),
                'ignored': summary.get('ignored', 0),
            }
        self._emit('stats', hosts=hosts)
