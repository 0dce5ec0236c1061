import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { JobPolicyService, RbacService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { buildChildEnv } from '@flansible/execution';

const run = promisify(execFile);
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
 * parser (`ansible-inventory --list`), so every inventory format reads as Ansible reads it.
 */
@Injectable()
export class LocalHostExposureAudit implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LocalHostExposureAudit.name);
  /** Stops a still-running ansible-inventory at shutdown, so it does not outlive the gateway. */
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
    const localHosts = new Map<string, Promise<string[]>>();
    for (const user of this.rbac.users.filter((u) => !u.isAdmin)) {
      const exposed: string[] = [];
      for (const inventory of this.policy.readableInventories(user)) {
        if (this.stopped.signal.aborted) return;
        if (!localHosts.has(inventory)) localHosts.set(inventory, this.localHosts(inventory));
        const hosts = await localHosts.get(inventory)!;
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

  private async localHosts(inventory: string): Promise<string[]> {
    try {
      const { stdout } = await run('ansible-inventory', [`--inventory=${inventory}`, '--list'], {
        env: buildChildEnv(process.env, this.config.dataDir),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
        signal: this.stopped.signal,
      });
      return localHostsOf(JSON.parse(stdout) as InventoryList);
    } catch (err) {
      if (this.stopped.signal.aborted) return [];
      this.logger.warn(`Could not read inventory ${inventory} with ansible-inventory: ${(err as Error).message.split('\n')[0]}`);
      return [];
    }
  }
}
