/**
 * auto_diagnostics (shared/seed/agents.md §1): OBD-II codes and symptoms to issues, a severity,
 * recommendations and a cost. Fixed from the seed: the recommendations keep their first-seen
 * order (the seed passed them through a set, so their order changed from run to run).
 */
import { round2, type BuiltinAgent } from './types.js';

type Severity = 'low' | 'medium' | 'high' | 'critical';
const RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

interface Finding {
  readonly issue: string;
  readonly severity: Severity;
  readonly cost: number;
  readonly recommendations: readonly string[];
}

/** The seed's code table: description, severity, cost, three recommendations each. */
const CODES: Readonly<Record<string, Finding>> = {
  P0301: {
    issue: 'P0301: cylinder 1 misfire detected',
    severity: 'medium',
    cost: 150,
    recommendations: [
      'Check the cylinder 1 spark plug',
      'Inspect the cylinder 1 ignition coil',
      'Test the cylinder 1 fuel injector',
    ],
  },
  P0302: {
    issue: 'P0302: cylinder 2 misfire detected',
    severity: 'medium',
    cost: 150,
    recommendations: [
      'Check the cylinder 2 spark plug',
      'Inspect the cylinder 2 ignition coil',
      'Test the cylinder 2 fuel injector',
    ],
  },
  P0420: {
    issue: 'P0420: catalyst system efficiency below threshold (bank 1)',
    severity: 'medium',
    cost: 800,
    recommendations: [
      'Inspect the catalytic converter',
      'Check the oxygen sensors',
      'Look for exhaust leaks before the converter',
    ],
  },
  P0171: {
    issue: 'P0171: system too lean (bank 1)',
    severity: 'medium',
    cost: 200,
    recommendations: [
      'Check for vacuum leaks',
      'Clean or test the mass air flow sensor',
      'Test the fuel pressure',
    ],
  },
  P0128: {
    issue: 'P0128: coolant temperature below thermostat regulating temperature',
    severity: 'low',
    cost: 250,
    recommendations: [
      'Replace the thermostat',
      'Check the coolant temperature sensor',
      'Check the coolant level',
    ],
  },
  P0442: {
    issue: 'P0442: evaporative emission system small leak detected',
    severity: 'low',
    cost: 100,
    recommendations: [
      'Check that the fuel cap is tight',
      'Inspect the EVAP hoses',
      'Test the EVAP purge valve',
    ],
  },
};

/** Symptom keywords (substrings of the lower-cased symptom), in the seed's order. */
const SYMPTOMS: readonly (Finding & { readonly keyword: string })[] = [
  {
    keyword: 'misfire',
    issue: 'Engine misfire reported',
    severity: 'medium',
    cost: 200,
    recommendations: ['Run an ignition system check', 'Inspect the spark plugs and coils'],
  },
  {
    keyword: 'rough idle',
    issue: 'Rough idle reported',
    severity: 'low',
    cost: 150,
    recommendations: ['Clean the throttle body', 'Check the idle air control valve'],
  },
  {
    keyword: 'stalling',
    issue: 'Engine stalling reported',
    severity: 'high',
    cost: 300,
    recommendations: ['Check the fuel pump and filter', 'Inspect the idle control system'],
  },
  {
    keyword: 'overheating',
    issue: 'Engine overheating reported',
    severity: 'critical',
    cost: 400,
    recommendations: ['Stop driving until the cooling system is checked', 'Check the radiator'],
  },
  {
    keyword: 'poor fuel economy',
    issue: 'Poor fuel economy reported',
    severity: 'low',
    cost: 100,
    recommendations: ['Check the tyre pressure', 'Replace the air filter'],
  },
];

function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[b] > RANK[a] ? b : a;
}

export const autoDiagnostics: BuiltinAgent = {
  name: 'auto_diagnostics',
  version: '1.0.0',
  description: 'OBD-II codes and symptoms to issues, severity, recommendations and a cost',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    required: ['vehicle_data'],
    properties: {
      vehicle_data: {
        type: 'object',
        properties: {
          vin: { type: 'string' },
          make: { type: 'string' },
          model: { type: 'string' },
          year: { type: 'integer' },
          mileage: { type: 'number', minimum: 0 },
          error_codes: { type: 'array', items: { type: 'string' } },
          symptoms: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['diagnosis', 'vehicle_info', 'codes_analyzed', 'symptoms_analyzed', 'status'],
    properties: {
      diagnosis: {
        type: 'object',
        required: ['issues', 'severity', 'recommendations', 'estimated_cost'],
        properties: {
          issues: { type: 'array', items: { type: 'string' } },
          severity: { enum: ['low', 'medium', 'high', 'critical'] },
          recommendations: { type: 'array', items: { type: 'string' } },
          estimated_cost: { type: 'number' },
        },
      },
      vehicle_info: { type: 'object' },
      codes_analyzed: { type: 'integer' },
      symptoms_analyzed: { type: 'integer' },
      status: { const: 'completed' },
    },
  },
  run(input) {
    const data = input['vehicle_data'] as Record<string, unknown>;
    const codes = (data['error_codes'] as string[] | undefined) ?? [];
    const symptoms = (data['symptoms'] as string[] | undefined) ?? [];
    const issues: string[] = [];
    const recommendations = new Set<string>();
    let severity: Severity = 'low';
    let cost = 0;
    for (const code of codes) {
      const known = Object.hasOwn(CODES, code) ? CODES[code] : undefined;
      if (known) {
        issues.push(known.issue);
        known.recommendations.forEach((text) => recommendations.add(text));
        cost += known.cost;
        severity = maxSeverity(severity, known.severity);
      } else {
        issues.push(`Unknown error code: ${code}`);
        recommendations.add(`Consult the vehicle's service manual for code ${code}`);
        cost += 100;
      }
    }
    let symptomSeverity: Severity = 'low';
    for (const symptom of symptoms) {
      const text = symptom.toLowerCase();
      for (const found of SYMPTOMS) {
        if (!text.includes(found.keyword)) continue;
        if (!issues.includes(found.issue)) issues.push(found.issue);
        found.recommendations.forEach((rec) => recommendations.add(rec));
        cost += found.cost;
        symptomSeverity = maxSeverity(symptomSeverity, found.severity);
      }
    }
    // The seed merges the symptoms' severity only when it is high or critical.
    if (RANK[symptomSeverity] >= RANK.high) severity = maxSeverity(severity, symptomSeverity);
    if (issues.length === 0) {
      issues.push('No issues detected');
      recommendations.add('Continue with regular maintenance');
    }
    return {
      diagnosis: {
        issues,
        severity,
        recommendations: [...recommendations],
        estimated_cost: round2(cost),
      },
      vehicle_info: {
        vin: data['vin'] ?? null,
        make: data['make'] ?? null,
        model: data['model'] ?? null,
        year: data['year'] ?? null,
        mileage: data['mileage'] ?? 0,
      },
      codes_analyzed: codes.length,
      symptoms_analyzed: symptoms.length,
      status: 'completed',
    };
  },
};
