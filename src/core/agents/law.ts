/**
 * law_agent (shared/seed/agents.md §1): a legal query's domain, confidence, route, timeline and
 * cost from its local rules; with an endpoint configured, the query goes to `<endpoint>/<type>-query`
 * instead (the seed's hard-coded remote, whose failures all became a TypeError). Deterministic:
 * the session id is derived from the input and the timestamp is `today`'s.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_NUMBERS,
  DEFAULT_TEXTS,
  DOMAIN_KEYWORDS,
  NUMBERS,
  TEXTS,
  WHOLE_WORDS,
} from './law-tables.js';
import { objectAnswer, TODAY_PROPERTY, type BuiltinAgent, type JsonObject } from './types.js';

export interface DomainScore {
  readonly domain: string;
  readonly matches: number;
  readonly confidence: number;
}

function matches(query: string, keyword: string): boolean {
  if (WHOLE_WORDS.has(keyword)) return new RegExp(`\\b${keyword}\\b`).test(query);
  return query.includes(keyword);
}

/** The first domain in declaration order with the strictly highest score; none: general_law. */
export function classify(queryText: string): DomainScore & { readonly others: string[] } {
  const query = queryText.toLowerCase();
  let best: DomainScore = { domain: 'general_law', matches: 0, confidence: 0.5 };
  const others: string[] = [];
  for (const [domain, keywords] of DOMAIN_KEYWORDS) {
    const found = keywords.filter((keyword) => matches(query, keyword)).length;
    if (found === 0) continue;
    others.push(domain);
    if (found > best.matches) {
      const confidence = Math.min(Math.max(found / keywords.length, 0.3), 1);
      best = { domain, matches: found, confidence };
    }
  }
  return { ...best, others: others.filter((domain) => domain !== best.domain) };
}

/** The base cost scaled by confidence (both bounds truncated, as the seed's `int()`). */
export function adjustedCost(base: readonly [number, number], confidence: number) {
  const factor = confidence > 0.5 ? 1 - (confidence - 0.5) * 0.4 : 1 + (0.5 - confidence) * 0.4;
  return [Math.trunc(base[0] * factor), Math.trunc(base[1] * factor)] as const;
}

function outcomeOf(confidence: number): string {
  if (confidence > 0.8) return 'A favourable outcome is likely with proper documentation';
  if (confidence > 0.6) return 'A favourable outcome is possible; the details of the case decide';
  return 'The outcome is uncertain; a lawyer should assess the case';
}

function localAnswer(input: JsonObject, today: string): JsonObject {
  const query = String(input['query']);
  const type = (input['agent_type'] as string | undefined) ?? 'basic';
  const found = classify(query);
  const numbers = NUMBERS[found.domain] ?? DEFAULT_NUMBERS;
  const texts = TEXTS[found.domain] ?? DEFAULT_TEXTS;
  const digest = createHash('sha256')
    .update(JSON.stringify([query, type]))
    .digest('hex');
  const basic: JsonObject = {
    session_id: `basket_${digest.slice(0, 16)}`,
    timestamp: `${today}T00:00:00.000Z`,
    domain: found.domain,
    confidence: found.confidence,
    legal_route: texts.route,
    timeline: `${numbers.days[0]}-${numbers.days[1]} days`,
    outcome: outcomeOf(found.confidence),
    process_steps: texts.steps,
    glossary: texts.glossary,
    raw_query: query,
  };
  if (type === 'basic') return basic;
  if (type === 'adaptive') {
    // The seed's learning kept per-domain state across calls; a deterministic agent has none.
    return {
      ...basic,
      learning_applied: input['feedback'] === true,
      confidence_improvement: 0,
      alternative_domains: found.others.slice(0, 3),
    };
  }
  const [low, high] = adjustedCost(numbers.cost, found.confidence);
  const location = typeof input['location'] === 'string' ? input['location'] : null;
  return {
    ...basic,
    agent_type: type,
    location_insights: location ? `Rules of ${location} apply` : 'No location given',
    jurisdiction: location ?? 'unspecified',
    constitutional_backing: texts.articles.length > 0,
    constitutional_articles: texts.articles,
    risk_assessment: found.confidence > 0.6 ? 'moderate' : 'high',
    estimated_cost: `₹${low} - ₹${high}`,
    success_rate: numbers.successRate,
    alternative_routes: texts.alternatives,
    required_documents: texts.documents,
    crime_data_insights: found.domain === 'criminal_law' ? 'See local crime statistics' : null,
  };
}

export const lawAgent: BuiltinAgent = {
  name: 'law_agent',
  version: '1.0.0',
  description:
    'Classifies a legal query (domain, confidence) and answers its route, timeline, steps and ' +
    'cost from local rules, or from the configured legal service',
  timeoutMs: 30_000,
  remote: true,
  inputSchema: {
    type: 'object',
    required: ['query'],
    properties: {
      ...TODAY_PROPERTY,
      query: { type: 'string', pattern: '\\S' },
      agent_type: { enum: ['basic', 'adaptive', 'enhanced'] },
      location: { type: 'string' },
      feedback: { type: 'boolean' },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['domain', 'confidence'],
    properties: { domain: { type: 'string' }, confidence: { type: 'number' } },
  },
  async run(input, ctx) {
    if (!ctx.remote) return { ...localAnswer(input, ctx.today), offline: true };
    const type = (input['agent_type'] as string | undefined) ?? 'basic';
    const body = {
      user_input: input['query'],
      feedback: input['feedback'] === true ? 'True' : null,
      ...(type === 'adaptive' ? { enable_learning: true } : { location: input['location'] }),
    };
    return objectAnswer(await ctx.remote({ method: 'POST', path: `/${type}-query`, body }));
  },
};
