// An EvoLink client nobody here wrote, pointed at Kinema's gateway with a member's token: the
// published npm package @evolinkai/evolink-media (its services, as its own tools use them). It
// hard-codes EvoLink's hosts, so `fetch` is redirected to Kinema's address; nothing else about
// the client changes. The member and the token come from the headless commands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createConfig } from '@evolinkai/evolink-media/dist/core/src/config.js';
import { apiRequest, queryTask } from '@evolinkai/evolink-media/dist/core/src/services/api-client.js';
import { fileStreamUpload } from '@evolinkai/evolink-media/dist/core/src/services/file-client.js';
import { startServer, fixture, PASSWORD } from './support.mjs';

const run = promisify(execFile);
const EVOLINK_HOSTS = ['https://api.evolink.ai', 'https://files-api.evolink.ai'];

let server;
const realFetch = globalThis.fetch;

/** Runs a headless kinema-server command against the test server's data directory. */
async function command(args) {
  const { stdout } = await run(process.env.KINEMA_SERVER_BIN, args, {
    cwd: server.dataDir,
    env: {
      ...process.env,
      KINEMA_DATA_DIR: server.dataDir,
      KINEMA_NEW_PASSWORD: PASSWORD,
      KINEMA_LOG: 'warn',
      DATABASE_URL: '',
      EVOLINK_API_KEY: '',
    },
  });
  return stdout.trim();
}

before(async () => {
  server = await startServer();
  await command(['create-admin', '--username', 'ada', '--display-name', 'Ada Admin']);
  process.env.EVOLINK_API_KEY = await command(['create-token', '--username', 'ada', '--name', 'sdk']);
  assert.match(process.env.EVOLINK_API_KEY, /^kin_[A-Za-z0-9_-]{43}$/);
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url ?? String(input);
    const host = EVOLINK_HOSTS.find((h) => url.startsWith(h));
    return realFetch(host ? server.base + url.slice(host.length) : input, init);
  };
});

after(async () => {
  globalThis.fetch = realFetch;
  await server?.stop();
});

async function upload(name, mime) {
  const answer = await fileStreamUpload(readFileSync(fixture(name)), mime, name);
  assert.equal(answer.success, true);
  return answer.data.file_url;
}

async function untilDone(config, id) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = await queryTask(config, id);
    if (task.status === 'completed' || task.status === 'failed') return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('the EvoLink client uploads, creates a motion task and an element, and polls both to completion', async () => {
  const config = createConfig('official');
  const image = await upload('valid.png', 'image/png');
  const video = await upload('valid-index-at-end.mp4', 'video/mp4');
  const face = await upload('element-face.webm', 'video/webm');

  const motion = await apiRequest(config, {
    method: 'POST',
    path: '/v1/videos/generations',
    body: {
      model: 'kling-v3-motion-control',
      image_urls: [image],
      video_urls: [video],
      quality: '720p',
      model_params: { character_orientation: 'image', keep_sound: false },
    },
  });
  assert.equal(motion.status, 'pending');
  assert.equal(motion.usage.credits_reserved, 40.824);
  const element = await apiRequest(config, {
    method: 'POST',
    path: '/v1/videos/generations',
    body: {
      model: 'kling-custom-element',
      model_params: {
        element_name: 'Ada',
        element_description: 'Our dancer',
        reference_type: 'video_refer',
        element_video_list: { refer_videos: [{ video_url: face }] },
      },
    },
  });

  const motionDone = await untilDone(config, motion.id);
  assert.equal(motionDone.status, 'completed', JSON.stringify(motionDone));
  const result = await realFetch(motionDone.results[0]);
  assert.equal(result.status, 200);
  assert.deepEqual(Buffer.from(await result.arrayBuffer()), readFileSync(fixture('valid-index-at-end.mp4')));
  const elementDone = await untilDone(config, element.id);
  assert.equal(elementDone.status, 'completed', JSON.stringify(elementDone));
  assert.ok(elementDone.result_data.element_id);

  // Both are on the member's ledger: 40.824 + 1 credits, settled.
  const credits = await apiRequest(config, { method: 'GET', path: '/v1/credits' });
  assert.equal(credits.data.token.used_credits, 41.824);

  // A wrong token is refused in EvoLink's shape, which the client turns into its own error.
  const key = process.env.EVOLINK_API_KEY;
  process.env.EVOLINK_API_KEY = 'kin_wrong';
  await assert.rejects(queryTask(config, motion.id), (err) => err.status === 401);
  process.env.EVOLINK_API_KEY = key;
});
