/**
 * The grammar of every string that reaches a command line. Each one rejects NUL, newlines and
 * a leading `-` (so no value can be read as an option), whatever else it allows.
 */
export const FieldGrammar = {
  /**
   * Ansible host patterns (also `--limit`): names, groups, globs, ranges, `:`/`,` unions, `&`/`!`
   * and `~regex`. No `@`: Ansible reads `@file` in a limit as a file of host names to open.
   */
  hostPattern: /^(?!-)[A-Za-z0-9_.:,*?!&~\[\]\-^=+]{1,1024}$/,
  /** Module names, short or fully qualified (`ping`, `ansible.builtin.find`). */
  module: /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,3}$/,
  becomeMethod: /^[A-Za-z_][A-Za-z0-9_.]{0,99}$/,
  /** POSIX-ish user names. */
  becomeUser: /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/,
  gitRemote: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/,
  /** Git branch names (no `..`, no `@{`, no trailing `.lock` or `/`, per git-check-ref-format). */
  gitBranch: /^(?!.*\.\.)(?!.*@\{)(?!.*\/\/)(?!.*(\.lock|\/|\.)$)[A-Za-z0-9_][A-Za-z0-9_./+-]{0,199}$/,
  /** An inventory name or path; no commas, so no inline host list (`host1,host2,`). */
  inventory: /^(?!-)[^\0\r\n,]{1,4096}$/,
  /** Jinja delimiters: a string holding one would be templated by Ansible on the Flansible host. */
  jinjaMarker: /\{\{|\{%|\{#/,
  /** Playbook tags for --tags / --skip-tags. */
  tag: /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}$/,
  /** An X-Request-Id we keep and echo: anything else is replaced by one of ours. */
  requestId: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  /** An Idempotency-Key header: printable ASCII without spaces. */
  idempotencyKey: /^[\x21-\x7e]{1,200}$/,
  /** A path a request names (resolved inside its root afterwards). */
  path: /^(?!-)[^\0\r\n]{1,4096}$/,
} as const;
