import { randomUUID } from 'node:crypto';
import { connect, Socket } from 'node:net';
import { constants } from 'node:os';
import { StartedProcess } from './process-runner';

/** One job for the fork server (flansible_forkserver.py): what the cold path would spawn. */
export interface WarmRequest {
  /** `ansible` or `ansible-playbook` and its arguments. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Whether the child gets the events stream on its descriptor 3. */
  events: boolean;
}

/** Why a job was not started warm; the runner then spawns it cold. */
export class WarmStartRefused extends Error {
  constructor(
    message: string,
    /** The server did not answer in time or broke the protocol: it is replaced. */
    readonly serverAtFault: boolean,
  ) {
    super(message);
  }
}

/** Splits a socket's data into lines (JSON messages) as they arrive. */
function onLines(socket: Socket, handle: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      handle(line);
    }
  });
}

const signalName = (number: number): NodeJS.Signals | null =>
  (Object.entries(constants.signals).find(([, n]) => n === number)?.[0] as NodeJS.Signals | undefined) ?? null;

/**
 * Asks the fork server at `socketPath` to start one job (the protocol is at the top of
 * flansible_forkserver.py): a control connection with the request, one connection per stream,
 * then `go` once the child has said who it is. Rejects with WarmStartRefused when the job is not
 * started: then nothing of it ran (the child waits for `go`, and a closed control connection
 * before it ends the child).
 */
export function forkWarm(socketPath: string, request: WarmRequest, answerWithinMs: number): Promise<StartedProcess> {
  const job = randomUUID();
  const streamNames = request.events ? ['stdout', 'stderr', 'events'] : ['stdout', 'stderr'];
  const open = (header: object): Socket => {
    const socket = connect(socketPath);
    socket.on('error', () => undefined); // reported by 'close' (and the missing answer)
    socket.write(`${JSON.stringify(header)}\n`);
    return socket;
  };
  const control = open({ job, argv: request.argv, env: request.env, cwd: request.cwd, streams: streamNames });
  const streams = streamNames.map((stream) => open({ job, stream }));
  const all = [control, ...streams];

  return new Promise<StartedProcess>((resolve, reject) => {
    let pid: number | null = null;
    let status: number | null = null;
    let endExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (endExited = resolve));
    const giveUp = (why: string, serverAtFault: boolean) => {
      clearTimeout(timer);
      all.forEach((socket) => socket.destroy());
      reject(new WarmStartRefused(why, serverAtFault));
    };
    const timer = setTimeout(() => giveUp(`the fork server did not answer within ${answerWithinMs} ms`, true), answerWithinMs);
    // The supervisor reports how the job ended, then exits; without a report it was killed.
    const closed = Promise.all([exited, ...streams.map((socket) => new Promise((resolve) => socket.once('close', resolve)))]).then(() =>
      status === null
        ? { exitCode: null, signal: 'SIGKILL' as NodeJS.Signals }
        : status >= 0
          ? { exitCode: status, signal: null }
          : { exitCode: null, signal: signalName(-status) },
    );

    onLines(control, (line) => {
      let message: { pid?: unknown; cold?: unknown; status?: unknown };
      try {
        message = JSON.parse(line);
      } catch {
        message = {};
      }
      if (pid === null) {
        if (typeof message.cold === 'string') return giveUp(message.cold, false);
        if (typeof message.pid !== 'number') return giveUp('the fork server answered out of protocol', true);
        clearTimeout(timer);
        pid = message.pid;
        control.write('go\n');
        resolve({ pid, stdout: streams[0], stderr: streams[1], events: streams[2] ?? null, exited, closed });
      } else if (typeof message.status === 'number') {
        status = message.status;
      }
    });
    control.on('close', () => {
      if (pid === null) giveUp('the fork server closed the connection', true);
      endExited();
    });
  });
}
