import { describe, expect, it } from 'vitest';
import { detectConnectionStrings } from '../../../../src/gate/detectors/connection-strings.js';

describe('connection-strings detector (T1)', () => {
  it.each([
    'mongodb://admin:pw@db.internal:27017/prod',
    'mongodb+srv://cluster0.example.net/test',
    'postgres://user@host/db',
    'postgresql://user:pass@localhost:5432/app',
    'MySQL://root@10.0.0.1/app',
    'redis://cache:6379/0',
    'rediss://cache:6380',
    'jdbc:mysql://db:3306/app',
    'jdbc:postgresql://db/app',
    'connect with "mongodb://x" please',
  ])('finds %s', (text) => {
    const threats = detectConnectionStrings({ settings: { url: text } });
    expect(threats.map((t) => t.id)).toEqual(['T1']);
    expect(threats[0]?.evidence).toContain('/settings/url');
  });

  it.each([
    'https://example.com/mongodb',
    'We migrated from MongoDB to Postgres last year',
    'the redis cache',
    'jdbc: a Java API',
    'xmongodb://not-a-scheme',
    'file:///etc/hosts',
  ])('lets %s through', (text) => {
    expect(detectConnectionStrings({ text })).toEqual([]);
  });

  it('looks only at string values, not member names', () => {
    expect(detectConnectionStrings({ 'mongodb://': 1 })).toEqual([]);
  });
});
