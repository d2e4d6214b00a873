/**
 * The finance agents of the seed (shared/seed/agents.md §1): cashflow_analyzer adds up signed
 * amounts, goal_recommender turns the total into one recommendation, financial_coordinator reads
 * or adds transactions through its configured service, else answers its offline mock.
 */
import { objectAnswer, type BuiltinAgent, type JsonObject, type RemoteCaller } from './types.js';

/** The seed's built-in amounts when the list is missing or empty (1500 / 2500 / −1000). */
const DEFAULT_AMOUNTS = [2000, -800, -200, 500];

const ANALYSIS = {
  type: 'object',
  required: ['total', 'positive', 'negative'],
  properties: {
    total: { type: 'number' },
    positive: { type: 'number' },
    negative: { type: 'number' },
  },
} as const;

export const cashflowAnalyzer: BuiltinAgent = {
  name: 'cashflow_analyzer',
  version: '1.0.0',
  description:
    'Adds up signed transaction amounts: total, incoming (positive), outgoing (negative)',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    properties: {
      transactions: {
        type: 'array',
        items: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } },
      },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['analysis'],
    properties: { analysis: ANALYSIS },
  },
  run(input) {
    const listed = (input['transactions'] as { amount: number }[] | undefined) ?? [];
    const amounts = listed.length > 0 ? listed.map((item) => item.amount) : DEFAULT_AMOUNTS;
    let positive = 0;
    let negative = 0;
    for (const amount of amounts) {
      if (amount > 0) positive += amount;
      else if (amount < 0) negative += amount;
    }
    return { analysis: { total: positive + negative, positive, negative } };
  },
};

export const goalRecommender: BuiltinAgent = {
  name: 'goal_recommender',
  version: '1.0.0',
  description: 'One recommendation from a cash-flow analysis: save when the total is positive',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    properties: { analysis: { type: 'object', properties: { total: { type: 'number' } } } },
  },
  outputSchema: {
    type: 'object',
    required: ['recommendations'],
    properties: {
      recommendations: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string' } },
    },
  },
  run(input) {
    const analysis = input['analysis'] as { total?: number } | undefined;
    // Missing or empty input: the seed's default analysis, total 1500.
    const given = analysis && Object.keys(analysis).length > 0 ? analysis : { total: 1500 };
    const total = given.total ?? 0;
    return { recommendations: [total > 0 ? 'Increase savings' : 'Reduce expenses'] };
  },
};

const MOCK_TRANSACTIONS = [
  { id: 1, amount: 1000, description: 'Salary', type: 'income' },
  { id: 2, amount: -500, description: 'Rent', type: 'expense' },
];
const OFFLINE_NOTE = 'offline: no endpoint is configured for financial_coordinator';

const TRANSACTION = {
  type: 'object',
  required: ['amount', 'description', 'type'],
  properties: {
    amount: { type: 'number' },
    description: { type: 'string', minLength: 1 },
    type: { enum: ['income', 'expense'] },
  },
} as const;

async function coordinateRemotely(remote: RemoteCaller, input: JsonObject): Promise<JsonObject> {
  const action = input['action'] ?? 'get_transactions';
  if (action === 'add_transaction') {
    const answer = objectAnswer(
      await remote({ method: 'POST', path: '/transactions', body: input['transaction'] }),
    );
    return { success: true, transaction: answer };
  }
  if (action === 'get_report') {
    const answer = objectAnswer(await remote({ method: 'GET', path: '/reports' }));
    return { success: true, report: answer['report'] ?? 'No report available.' };
  }
  const answer = objectAnswer(await remote({ method: 'GET', path: '/transactions' }));
  return { success: true, transactions: answer['transactions'] ?? [] };
}

/** The offline result, per action (the seed answered the same mock to every action). */
function coordinateOffline(input: JsonObject): JsonObject {
  const action = input['action'] ?? 'get_transactions';
  const offline = { success: true, offline: true, note: OFFLINE_NOTE };
  if (action === 'add_transaction') {
    const transaction = input['transaction'] as JsonObject;
    return { ...offline, transaction: { id: MOCK_TRANSACTIONS.length + 1, ...transaction } };
  }
  if (action === 'get_report') {
    const income = 1000;
    const expenses = -500;
    return {
      ...offline,
      report: `income ${income}, expenses ${expenses}, net ${income + expenses}`,
    };
  }
  return { ...offline, transactions: MOCK_TRANSACTIONS };
}

export const financialCoordinator: BuiltinAgent = {
  name: 'financial_coordinator',
  version: '1.0.0',
  description:
    'Reads transactions, adds one or reads the report through the configured finance service; ' +
    'offline, its mock (marked "offline": true)',
  timeoutMs: 30_000,
  remote: true,
  inputSchema: {
    type: 'object',
    properties: {
      action: { enum: ['get_transactions', 'add_transaction', 'get_report'] },
      transaction: TRANSACTION,
    },
    if: { required: ['action'], properties: { action: { const: 'add_transaction' } } },
    then: { required: ['transaction'] },
  },
  outputSchema: {
    type: 'object',
    required: ['success'],
    properties: {
      success: { type: 'boolean' },
      transactions: { type: 'array', items: { type: 'object' } },
      transaction: { type: 'object' },
      report: {},
      offline: { type: 'boolean' },
      note: { type: 'string' },
    },
  },
  async run(input, ctx) {
    // A remote failure keeps its cause (invoke.ts names it: egress_refused, step_timeout, …).
    return ctx.remote ? coordinateRemotely(ctx.remote, input) : coordinateOffline(input);
  },
};
