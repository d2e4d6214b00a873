/**
 * The latency limit's door before routing (SPEC §15, decision record 0069): it matches the shed
 * routes as Fastify registered them, and refuses at start-up a route it would shed by mistake.
 */
import type { RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ShedRoutes } from '../../../src/http/shed.js';

const route = (method: string | string[], url: string, shed: boolean): RouteOptions =>
  ({ method, url, config: shed ? { shed: true } : {}, handler: () => {} }) as RouteOptions;

describe('ShedRoutes', () => {
  it('finds the shed route a request goes to, and nothing for any other request', () => {
    const routes = new ShedRoutes();
    routes.add(route(['PUT', 'GET'], '/v1/artifacts/:product/:class/*', true));
    routes.add(route('GET', '/v1/artifacts/:product', true));
    routes.add(route('POST', '/v1/batch', true));
    routes.add(route('GET', '/v1/audit/entries', false));
    expect(routes.match('PUT', '/v1/artifacts/ai_avatar/model_checkpoint/a/b.bin')).toBe(
      '/v1/artifacts/:product/:class/*',
    );
    expect(routes.match('GET', '/v1/artifacts/ai_avatar')).toBe('/v1/artifacts/:product');
    expect(routes.match('POST', '/v1/batch')).toBe('/v1/batch');
    expect(routes.match('DELETE', '/v1/artifacts/ai_avatar/model_checkpoint/a')).toBeNull();
    expect(routes.match('GET', '/v1/audit/entries')).toBeNull();
    expect(routes.match('POST', '/v1/batch/x')).toBeNull();
    expect(routes.match('GET', '/v1/artifactsX')).toBeNull();
  });

  it('refuses a route that is not shed where a shed route would take its requests', () => {
    const shedFirst = new ShedRoutes();
    shedFirst.add(route('GET', '/v1/artifacts/:product/:class/*', true));
    expect(() => shedFirst.add(route('GET', '/v1/artifacts/:product/holds/:id', false))).toThrow(
      /not shed, but the latency limit's door before routing would shed it/,
    );
    const otherFirst = new ShedRoutes();
    otherFirst.add(route('GET', '/v1/artifacts/:product/holds/:id', false));
    expect(() => otherFirst.add(route('GET', '/v1/artifacts/:product/:class/*', true))).toThrow();
    // Another method on the same path is another route.
    expect(() =>
      otherFirst.add(route('PUT', '/v1/artifacts/:product/:class/*', true)),
    ).not.toThrow();
  });
});
