import { Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { FlansibleConfig } from '@flansible/config';
import { AuthenticatedUser } from './authenticated-user';
import { RbacEntry, readRbacFile } from './rbac-file';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Users from rbac.json, read once at boot, and their password check. */
@Injectable()
export class RbacService {
  private readonly users: Map<string, RbacEntry>;
  /** Compared against when the user is unknown, so both paths take the same time. */
  private readonly decoy = digest('flansible-no-such-user');

  constructor(config: FlansibleConfig) {
    this.users = new Map(readRbacFile(config.rbacFile).map((entry) => [entry.user, entry]));
  }

  /** The user when name and password match, else null. Constant-time in the password. */
  authenticate(name: string, password: string): AuthenticatedUser | null {
    const entry = this.users.get(name);
    const matches = timingSafeEqual(entry ? digest(entry.password) : this.decoy, digest(password));
    if (!entry || !matches) return null;
    return { name: entry.user, isAdmin: entry.user === 'admin' || entry.admin === true, inventories: entry.inventories };
  }
}
