// The whole portal: the SDK's browser bundle (npm run sdk:build → libs/sdk/dist/browser/), served
// beside this file as flansible-sdk.mjs.
import { createFlansibleClient } from './flansible-sdk.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.has('gateway')) $('gateway').value = params.get('gateway');

$('launch').addEventListener('submit', async (event) => {
  event.preventDefault();
  document.body.dataset.state = 'running';
  $('error').textContent = '';
  try {
    const client = createFlansibleClient({ baseUrl: $('gateway').value, token: $('token').value });
    const job = await client.submitPlaybook({ playbook_dir: 'sample', playbook: 'site.yml', extra_vars: { greeting_name: 'browser' } });
    $('job-id').textContent = job.id;
    let outputMessages = 0;
    for await (const message of client.followJob(job.id)) {
      if (message.type === 'output') {
        outputMessages++;
        $('output').textContent += message.data.lines.map((line) => `${line}\n`).join('');
      } else if (message.type === 'status') {
        $('status').textContent = message.data.status;
        $('statuses').textContent += ` ${message.data.status}`;
      } else if (message.type === 'end') {
        $('status').textContent = message.data.status;
      }
    }
    document.body.dataset.outputMessages = String(outputMessages);
    const summary = await client.getJobSummary(job.id);
    // Host names come from inventories: text, never markup.
    const body = $('summary').querySelector('tbody');
    for (const host of summary.hosts) {
      const row = body.insertRow();
      row.dataset.host = host.host;
      for (const value of [host.host, host.ok, host.changed, host.failed, host.unreachable, host.skipped]) row.insertCell().textContent = String(value);
    }
    document.body.dataset.state = 'done';
  } catch (err) {
    $('error').textContent = `${err.name}: ${err.message}`;
    document.body.dataset.state = 'failed';
  }
});
