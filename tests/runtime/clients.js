// Connects with each URL / DSN given, through the client libraries NocoBase 2.2.15 itself loads:
// node-redis as its cache store requires it (cache-manager-redis-yet) and as its Redis connection
// manager does (@nocobase/server lib/redis-connection-manager.js), pg and mysql2 as Sequelize loads
// them from the app's root. Prints one JSON object: name -> {ok, info} or {ok: false, error}.
// usage: node clients.js APP_DIR '[{"name": ..., "kind": "redis"|"postgres"|"mysql", "url": ..., "config": {...}}]'
const path = require('path');
const { createRequire } = require('module');

const app = process.argv[2];
const targets = JSON.parse(process.argv[3]);
const from = (file) => createRequire(path.join(app, 'node_modules', file));
const redisClients = {
  'cache-manager-redis-yet': from('cache-manager-redis-yet/package.json')('redis'),
  '@nocobase/server': from('@nocobase/server/lib/redis-connection-manager.js')('redis'),
};
const pg = from('package.json')('pg');
const mysql2 = from('package.json')('mysql2/promise');

async function redis(target) {
  const info = {};
  for (const [who, lib] of Object.entries(redisClients)) {
    const client = lib.createClient({ url: target.url, socket: { reconnectStrategy: false, connectTimeout: 5000 } });
    client.on('error', () => {});
    await client.connect();
    try {
      const line = await client.sendCommand(['CLIENT', 'INFO']);
      info[who] = { db: Number(/ db=(\d+)/.exec(line)[1]), user: / user=(\S+)/.exec(line)[1] };
    } finally {
      await client.quit();
    }
  }
  return info;
}

async function postgres(target) {
  const client = new pg.Client(target.url ? { connectionString: target.url } : target.config);
  await client.connect();
  try {
    const { rows } = await client.query('select current_user as user, current_database() as db');
    return rows[0];
  } finally {
    await client.end();
  }
}

async function mysql(target) {
  const conn = await mysql2.createConnection(target.url || target.config);
  try {
    const [rows] = await conn.query('select current_user() as user, database() as db, @@character_set_database as charset');
    return rows[0];
  } finally {
    await conn.end();
  }
}

(async () => {
  const results = {};
  for (const target of targets) {
    try {
      results[target.name] = { ok: true, info: await { redis, postgres, mysql }[target.kind](target) };
    } catch (error) {
      results[target.name] = { ok: false, error: String(error && (error.message || error)) };
    }
  }
  console.log(JSON.stringify(results));
})();
