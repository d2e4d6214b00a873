/**
 * The built-in agents against the rules of shared/seed/agents.md (finance and education), each
 * output checked against the agent's own output schema, including the cases where the seed's
 * sample output was wrong.
 */
import { describe, expect, it } from 'vitest';
import { inputProblem, runAgent } from '../../helpers/agents.js';

describe('cashflow_analyzer', () => {
  it('adds up signed amounts into total, positive and negative', async () => {
    const out = await runAgent('cashflow_analyzer', {
      transactions: [
        { id: 1, amount: 100 },
        { id: 2, amount: -50 },
      ],
    });
    expect(out).toEqual({ analysis: { total: 50, positive: 100, negative: -50 } });
  });

  it('uses the four built-in amounts when the list is missing or empty', async () => {
    const expected = { analysis: { total: 1500, positive: 2500, negative: -1000 } };
    expect(await runAgent('cashflow_analyzer', {})).toEqual(expected);
    expect(await runAgent('cashflow_analyzer', { transactions: [] })).toEqual(expected);
  });

  it('refuses an item without an amount as input (the seed answered {error: "\'amount\'"})', () => {
    expect(inputProblem('cashflow_analyzer', { transactions: [{ id: 1 }] })).toMatch(/amount/);
  });
});

describe('goal_recommender', () => {
  it('recommends savings for a positive total and fewer expenses otherwise', async () => {
    expect(await runAgent('goal_recommender', { analysis: { total: 50 } })).toEqual({
      recommendations: ['Increase savings'],
    });
    expect(await runAgent('goal_recommender', { analysis: { total: 0 } })).toEqual({
      recommendations: ['Reduce expenses'],
    });
    expect(await runAgent('goal_recommender', { analysis: { total: -10 } })).toEqual({
      recommendations: ['Reduce expenses'],
    });
  });

  it('answers one string, never both (the seed spec sample listed both)', async () => {
    // Missing or empty: the default analysis, total 1500.
    expect(await runAgent('goal_recommender', {})).toEqual({
      recommendations: ['Increase savings'],
    });
    expect(await runAgent('goal_recommender', { analysis: {} })).toEqual({
      recommendations: ['Increase savings'],
    });
    // An analysis without a total counts as 0.
    expect(await runAgent('goal_recommender', { analysis: { positive: 3 } })).toEqual({
      recommendations: ['Reduce expenses'],
    });
  });
});

describe('financial_coordinator offline', () => {
  it('answers its mock transactions, marked offline (expenses negative)', async () => {
    const out = await runAgent('financial_coordinator', { action: 'get_transactions' });
    expect(out['offline']).toBe(true);
    expect(out['success']).toBe(true);
    expect(out['transactions'].map((t: { amount: number }) => t.amount)).toEqual([1000, -500]);
    // Chained into cashflow_analyzer (the seed's financial_operations basket): 500/1000/−500.
    expect(await runAgent('cashflow_analyzer', out)).toEqual({
      analysis: { total: 500, positive: 1000, negative: -500 },
    });
  });

  it('needs a complete transaction to add one, and knows only its three actions', async () => {
    expect(inputProblem('financial_coordinator', { action: 'add_transaction' })).not.toBeNull();
    expect(
      inputProblem('financial_coordinator', {
        action: 'add_transaction',
        transaction: { amount: 5, description: 'x' },
      }),
    ).not.toBeNull();
    expect(inputProblem('financial_coordinator', { action: 'delete_everything' })).not.toBeNull();
    const added = await runAgent('financial_coordinator', {
      action: 'add_transaction',
      transaction: { amount: -20, description: 'Books', type: 'expense' },
    });
    expect(added['transaction']).toMatchObject({ id: 3, amount: -20, type: 'expense' });
  });
});

describe('gurukul agents offline', () => {
  it('answer their offline result in the shape of their specs', async () => {
    const trend = await runAgent('gurukul_trend', { collection_name: 'performance_data' });
    expect(trend['offline']).toBe(true);
    expect(trend['trends'][0]).toHaveProperty('predicted_trend');
    const feedback = await runAgent('gurukul_feedback', { student_id: 'student123' });
    expect(feedback['feedback']).toContain('student123');
    const anomaly = await runAgent('gurukul_anomaly', {
      collections: { text: [], audio: [], video: [], image: [] },
    });
    expect(typeof anomaly['anomaly_report']).toBe('string');
  });

  it('require their input (collection_name, student_id, the four collections)', () => {
    expect(inputProblem('gurukul_trend', {})).not.toBeNull();
    expect(inputProblem('gurukul_feedback', {})).not.toBeNull();
    expect(inputProblem('gurukul_anomaly', { collections: { text: [] } })).not.toBeNull();
  });
});

describe('sanskrit_parser and vedic_quiz_agent', () => {
  it('parses the root as the first word; empty or blank text is bad input', async () => {
    expect(await runAgent('sanskrit_parser', { text: 'vidya vinayam dadati' })).toEqual({
      parsed: { root: 'vidya', meaning: 'parsed' },
    });
    expect(await runAgent('sanskrit_parser', { text: '  dharma  ' })).toEqual({
      parsed: { root: 'dharma', meaning: 'parsed' },
    });
    expect(inputProblem('sanskrit_parser', { text: '' })).not.toBeNull();
    expect(inputProblem('sanskrit_parser', { text: '   ' })).not.toBeNull();
  });

  it('answers Delhi to the capital of India (the seed always said Unknown)', async () => {
    expect(
      await runAgent('vedic_quiz_agent', { question: 'What is the capital of India?' }),
    ).toEqual({ answer: 'Delhi' });
    expect(await runAgent('vedic_quiz_agent', { question: 'Who wrote the Rigveda?' })).toEqual({
      answer: 'Unknown',
    });
    expect(inputProblem('vedic_quiz_agent', { question: '' })).not.toBeNull();
  });

  it('the seed gurukul_practice chain fails honestly: a quiz answer has no text', () => {
    expect(inputProblem('sanskrit_parser', { answer: 'Delhi' })).toMatch(/text/);
  });
});
