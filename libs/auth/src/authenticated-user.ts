/** Who made a request, as the guard leaves it on the request. */
export interface AuthenticatedUser {
  name: string;
  /** May use every inventory: the user named `admin`, or any entry with "admin": true. */
  isAdmin: boolean;
  /** Inventories as listed in rbac.json (names or paths), for non-admins. */
  inventories: readonly string[];
}
