import { ForbiddenException, Injectable } from '@nestjs/common';
import { PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { AuthenticatedUser } from './authenticated-user';

/** Decides whether a user may run jobs against an inventory, by real path, whatever its spelling. */
@Injectable()
export class InventoryAccessService {
  constructor(private readonly workspace: WorkspaceService) {}

  /**
   * Checks access to `inventory` as the request named it (or the default) and returns its
   * real path. Refuses before revealing whether an inventory the user may not use exists.
   */
  authorize(user: AuthenticatedUser, inventory: string): string {
    const requested = this.workspace.locateInventory(inventory);
    if (!user.isAdmin && !this.allowedPaths(user).has(requested.path)) {
      throw new ForbiddenException(`User does not have access to inventory ${inventory}`);
    }
    return this.workspace.resolveInventory(inventory);
  }

  private allowedPaths(user: AuthenticatedUser): Set<string> {
    const paths = new Set<string>();
    for (const listed of user.inventories) {
      try {
        paths.add(this.workspace.locateInventory(listed).path);
      } catch (err) {
        // A listed inventory outside the root can never be used: jobs only run inside it.
        if (!(err instanceof PathOutsideRootError)) throw err;
      }
    }
    return paths;
  }
}
