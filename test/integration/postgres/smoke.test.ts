/**
 * The PostgreSQL test infrastructure itself, before any store uses it: the
 * server from postgres-server.sh is the version CI promises, a test gets a
 * database of its own and can drop it, and an outage test can stop the real
 * server and bring it back under a pool that lives through it.
 */
import { expect } from 'chai';
import { Client, Pool } from 'pg';
import {
  createTestDatabase,
  describePostgres,
  startPostgres,
  stopPostgres,
  testDatabaseUrl,
  type TestDatabase,
} from '../../support/postgres';

describePostgres('PostgreSQL test server', function () {
  let db: TestDatabase;
  let pool: Pool;

  before(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => undefined); // the drop below ends the pool's idle connections
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('is PostgreSQL 15 and gives each test a database of its own', async () => {
    const { rows } = await pool.query<{ version: string; db: string }>('SELECT version(), current_database() AS db');
    expect(rows[0]?.version).to.match(/^PostgreSQL 15\./);
    expect(rows[0]?.db).to.match(/^skyrelay_test_[0-9a-f]{12}$/);
  });

  it('commits a transaction', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TABLE smoke (id int PRIMARY KEY, note text NOT NULL)');
      await client.query('BEGIN');
      await client.query('INSERT INTO smoke VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM smoke');
    expect(rows[0]?.n).to.equal('2');
  });

  it('drops the database, even while a pool still holds connections to it', async () => {
    await db.drop();
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        new URL(db.url).pathname.slice(1),
      ]);
      expect(rows).to.have.length(0);
    } finally {
      await admin.end();
    }
  });
});

describePostgres(
  'PostgreSQL test server: stopped and started again',
  function () {
    let pool: Pool;
    let down = false;

    before(() => {
      pool = new Pool({ connectionString: testDatabaseUrl(), max: 2, connectionTimeoutMillis: 2000 });
      pool.on('error', () => undefined); // the stop ends the pool's idle connection; the queries below see the outage
    });

    after(async () => {
      if (down) await startPostgres();
      await pool?.end();
    });

    it('the same pool gets errors while the server is down and works again once it is back', async () => {
      await pool.query('SELECT 1');

      await stopPostgres();
      down = true;
      const refused = await pool.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused, 'a query while PostgreSQL is down').to.be.instanceOf(Error);

      await startPostgres();
      down = false;
      const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows[0]?.ok).to.equal(1);
    });
  },
  { stopsServer: true },
);
