import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JobPolicyService, RbacService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { buildChildEnv, findAnsibleScript, scriptCommand } from '@flansible/execution';

const run = promisify(execFile);
/** Lists inventories as `ansible-inventory --list` does, paying Ansible's import once (libs/execution/ansible). */
const LISTER_FILE = 'flansible_list_inventories.py';
/** Seconds one inventory may take to list (an inventory script or plugin may hang). */
const LIST_TIMEOUT_S = 60;
/** Names Ansible connects to locally when the inventory gives no connection for them. */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

interface InventoryList {
  _meta?: { hostvars?: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[] } | unknown;
}

/** Hosts of an `ansible-inventory --list` answer that Ansible runs on the Flansible host itself. */
export function localHostsOf(list: InventoryList): string[] {
  const hostvars = list._meta?.hostvars ?? {};
  const hosts = new Set<string>(Object.keys(hostvars));
  for (const [group, value] of Object.entries(list)) {
    if (group !== '_meta' && typeof value === 'object' && value !== null) {
      for (const host of (value as { hosts?: string[] }).hosts ?? []) hosts.add(host);
    }
  }
  return [...hosts].filter((host) => {
    const connection = hostvars[host]?.ansible_connection;
    return connection === 'local' || (connection === undefined && LOCAL_NAMES.has(host));
  });
}

/**
 * At start, warns once per non-admin user whose inventories hold a host that Ansible runs on the
 * Flansible host itself (`ansible_connection=local`, or localhost without a connection): such a
 * user can run `shell` here, with the service's files and keys. Asks Ansible's own inventory
 * parser (`ansible-inventory --list`, every inventory in one process), so every inventory format
 * reads as Ansible reads it.
 */
@Injectable()
export class LocalHostExposureAudit implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LocalHostExposureAudit.name);
  /** Stops a still-running inventory listing at shutdown, so it does not outlive the gateway. */
  private readonly stopped = new AbortController();

  constructor(
    private readonly config: FlansibleConfig,
    private readonly rbac: RbacService,
    private readonly policy: JobPolicyService,
  ) {}

  onApplicationBootstrap(): void {
    // In the background: the gateway does not wait for Ansible to start.
    void this.audit().catch((err: Error) => this.logger.warn(`Could not check inventories for local hosts: ${err.message}`));
  }

  onModuleDestroy(): void {
    this.stopped.abort();
  }

  async audit(): Promise<void> {
    const users = this.rbac.users.filter((u) => !u.isAdmin);
    const inventories = [...new Set(users.flatMap((user) => this.policy.readableInventories(user)))];
    if (inventories.length === 0) return;
    const localHosts = await this.localHosts(inventories);
    for (const user of users) {
      const exposed: string[] = [];
      for (const inventory of this.policy.readableInventories(user)) {
        const hosts = localHosts.get(inventory) ?? [];
        if (hosts.length) exposed.push(`${inventory} (${hosts.join(', ')})`);
      }
      if (exposed.length) {
        this.logger.warn(
          `User ${user.name} may use inventories with hosts that run on the Flansible host itself: ${exposed.join('; ')}. ` +
            'That user can run commands here as the service user, with its files and keys (see the README, Security)',
        );
      }
    }
  }

  /**
   * Each inventory's local hosts, from one Python process that lists them all
   * (flansible_list_inventories.py: `ansible-inventory --list` per inventory, forked after one
   * import of Ansible, instead of one interpreter start each). An inventory that cannot be read
   * is warned about and counts as none.
   */
  private async localHosts(inventories: string[]): Promise<Map<string, string[]>> {
    const env = buildChildEnv(process.env, this.config.dataDir);
    const lister = findAnsibleScript(LISTER_FILE, env.PATH);
    if (typeof lister === 'string') throw new Error(lister);
    const [command, args] = scriptCommand(lister, [String(LIST_TIMEOUT_S), ...inventories]);
    let stdout: string;
    try {
      ({ stdout } = await run(command, args, {
        env,
        maxBuffer: 64 * 1024 * 1024,
        signal: this.stopped.signal,
      }));
    } catch (err) {
      if (this.stopped.signal.aborted) return new Map();
      throw err;
    }
    const listed = JSON.parse(stdout) as Record<string, { list?: InventoryList; error?: string }>;
    const hosts = new Map<string, string[]>();
    for (const inventory of inventories) {
      const { list, error } = listed[inventory] ?? { error: 'not listed' };
      if (list) hosts.set(inventory, localHostsOf(list));
      else this.logger.warn(`Could not read inventory ${inventory} with ansible-inventory: ${error}`);
    }
    return hosts;
  }
}
