/**
 * The education agents of the seed (shared/seed/agents.md §1): the three Gurukul analytics agents
 * (the whole input POSTed to their configured endpoint, else an offline result marked `"offline":
 * true` that has the shape their specs promise, unlike the seed's mocks), the Sanskrit parser and
 * the Vedic quiz (fixed: the seed looked for "capital of India" in a lower-cased question, so it
 * never answered).
 */
import { objectAnswer, type BuiltinAgent, type JsonObject, type JsonSchema } from './types.js';

interface GurukulShape {
  readonly name: string;
  readonly description: string;
  readonly input: JsonSchema;
  readonly required: string;
  readonly output: JsonSchema;
  readonly offline: (input: JsonObject) => JsonObject;
}

function gurukulAgent(shape: GurukulShape): BuiltinAgent {
  return {
    name: shape.name,
    version: '1.0.0',
    description: shape.description,
    timeoutMs: 30_000,
    remote: true,
    inputSchema: { type: 'object', required: [shape.required], properties: shape.input },
    outputSchema: {
      type: 'object',
      properties: { ...shape.output, offline: { type: 'boolean' }, note: { type: 'string' } },
    },
    async run(input, ctx) {
      if (ctx.remote)
        return objectAnswer(await ctx.remote({ method: 'POST', path: '', body: input }));
      return {
        success: true,
        ...shape.offline(input),
        offline: true,
        note: `offline: no endpoint is configured for ${shape.name}`,
      };
    },
  };
}

export const gurukulTrend = gurukulAgent({
  name: 'gurukul_trend',
  description: "Predicted performance trends of a Gurukul collection's students",
  required: 'collection_name',
  input: { collection_name: { type: 'string', minLength: 1 } },
  output: {
    trends: {
      type: 'array',
      items: {
        type: 'object',
        required: ['student_id', 'subject', 'predicted_trend'],
        properties: {
          student_id: { type: 'string' },
          subject: { type: 'string' },
          predicted_trend: { type: 'string' },
        },
      },
    },
  },
  offline: () => ({
    trends: [
      { student_id: 'student123', subject: 'mathematics', predicted_trend: 'improving' },
      { student_id: 'student456', subject: 'sanskrit', predicted_trend: 'stable' },
    ],
  }),
});

export const gurukulFeedback = gurukulAgent({
  name: 'gurukul_feedback',
  description: "Feedback on a Gurukul student's progress",
  required: 'student_id',
  input: { student_id: { type: 'string', minLength: 1 } },
  output: { feedback: { type: 'string' } },
  offline: (input) => ({
    feedback: `Student ${String(input['student_id'])} is progressing well; keep up regular practice.`,
  }),
});

export const gurukulAnomaly = gurukulAgent({
  name: 'gurukul_anomaly',
  description: 'Anomalies in Gurukul collections of text, audio, video and images',
  required: 'collections',
  input: {
    collections: {
      type: 'object',
      required: ['text', 'audio', 'video', 'image'],
      properties: { text: {}, audio: {}, video: {}, image: {} },
    },
  },
  output: { anomaly_report: { type: 'string' }, anomalies: { type: 'array' } },
  offline: () => ({
    anomaly_report: 'No anomalies detected in the text, audio, video and image collections.',
    anomalies: [],
  }),
});

export const sanskritParser: BuiltinAgent = {
  name: 'sanskrit_parser',
  version: '1.0.0',
  description: 'The root (first word) of a Sanskrit text',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    required: ['text'],
    // Whitespace only was an index error in the seed: refused as input instead.
    properties: { text: { type: 'string', pattern: '\\S' } },
  },
  outputSchema: {
    type: 'object',
    required: ['parsed'],
    properties: {
      parsed: {
        type: 'object',
        required: ['root', 'meaning'],
        properties: { root: { type: 'string' }, meaning: { type: 'string' } },
      },
    },
  },
  run(input) {
    const text = String(input['text']);
    const root = text.trim().split(/\s+/)[0] ?? '';
    return { parsed: { root, meaning: 'parsed' } };
  },
};

export const vedicQuiz: BuiltinAgent = {
  name: 'vedic_quiz_agent',
  version: '1.0.0',
  description: 'Answers a quiz question it knows ("capital of India"), else "Unknown"',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    required: ['question'],
    properties: { question: { type: 'string', pattern: '\\S' } },
  },
  outputSchema: {
    type: 'object',
    required: ['answer'],
    properties: { answer: { type: 'string' } },
  },
  run(input) {
    const question = String(input['question']).toLowerCase();
    return { answer: question.includes('capital of india') ? 'Delhi' : 'Unknown' };
  },
};
