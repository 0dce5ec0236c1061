import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Host name → addresses, as the system resolver answers (/etc/hosts, DNS). A class of its own
 * so that a spec can make a name resolve to what it needs (a rebinding name, a private answer).
 */
@Injectable()
export class WebhookResolver {
  async resolve(host: string): Promise<ResolvedAddress[]> {
    const answers = await lookup(host, { all: true, verbatim: true });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}
