/**
 * vehicle_maintenance (shared/seed/agents.md §1): the service table against the vehicle's history
 * and mileage gives upcoming and overdue services. Fixed from the seed: "now" is the input's
 * `today` (the seed read the wall clock), so the same input always gives the same schedule.
 */
import { round2, TODAY_PROPERTY, type BuiltinAgent } from './types.js';

type Priority = 'urgent' | 'high' | 'medium' | 'low';
const RANK: Readonly<Record<Priority, number>> = { urgent: 0, high: 1, medium: 2, low: 3 };
const DAY_MS = 86_400_000;
/** The seed's month. */
const MONTH_DAYS = 30;

interface Service {
  readonly type: string;
  readonly miles: number;
  readonly months: number;
  readonly cost: number;
  readonly priority: Priority;
}

const SERVICES: readonly Service[] = [
  { type: 'oil_change', miles: 5000, months: 6, cost: 75, priority: 'medium' },
  { type: 'tire_rotation', miles: 7500, months: 6, cost: 50, priority: 'low' },
  { type: 'air_filter', miles: 15000, months: 12, cost: 25, priority: 'low' },
  { type: 'brake_inspection', miles: 20000, months: 24, cost: 100, priority: 'high' },
  { type: 'transmission_service', miles: 30000, months: 36, cost: 200, priority: 'medium' },
  { type: 'coolant_flush', miles: 30000, months: 36, cost: 150, priority: 'medium' },
  { type: 'spark_plugs', miles: 30000, months: 36, cost: 120, priority: 'medium' },
  { type: 'timing_belt', miles: 60000, months: 72, cost: 800, priority: 'high' },
];

/** A `YYYY-MM-DD` date as ms at UTC midnight, or null when it is not a real date. */
function dayOf(text: unknown): number | null {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) return null;
  return ms;
}

const dateText = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const daysBetween = (from: number, to: number) => Math.floor((to - from) / DAY_MS);

interface Last {
  readonly mileage: number;
  readonly date: number | null;
}

/** The last history entry of each service type wins. */
function lastServices(history: readonly Record<string, unknown>[]): Map<string, Last> {
  const last = new Map<string, Last>();
  for (const entry of history) {
    const type = entry['service_type'];
    if (typeof type !== 'string') continue;
    const mileage = typeof entry['mileage'] === 'number' ? entry['mileage'] : 0;
    last.set(type, { mileage, date: dayOf(entry['date']) });
  }
  return last;
}

export const vehicleMaintenance: BuiltinAgent = {
  name: 'vehicle_maintenance',
  version: '1.0.0',
  description: 'Upcoming and overdue services from the service table, the history and `today`',
  timeoutMs: 5000,
  inputSchema: {
    type: 'object',
    required: ['vehicle_info'],
    properties: {
      ...TODAY_PROPERTY,
      vehicle_info: {
        type: 'object',
        properties: {
          make: { type: 'string' },
          model: { type: 'string' },
          year: { type: 'integer' },
          mileage: { type: 'number', minimum: 0 },
          service_history: {
            type: 'array',
            items: {
              type: 'object',
              required: ['service_type'],
              properties: {
                date: { type: 'string' },
                service_type: { type: 'string' },
                mileage: { type: 'number', minimum: 0 },
              },
            },
          },
        },
      },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['maintenance_schedule', 'vehicle_info', 'services_analyzed', 'status'],
    properties: {
      maintenance_schedule: {
        type: 'object',
        required: ['upcoming_services', 'overdue_services', 'total_estimated_cost'],
        properties: {
          upcoming_services: { type: 'array', items: { type: 'object' } },
          overdue_services: { type: 'array', items: { type: 'object' } },
          total_estimated_cost: { type: 'number' },
        },
      },
      vehicle_info: { type: 'object' },
      services_analyzed: { type: 'integer' },
      status: { const: 'completed' },
    },
  },
  run(input, ctx) {
    const info = input['vehicle_info'] as Record<string, unknown>;
    const today = dayOf(ctx.today) ?? 0;
    const current = typeof info['mileage'] === 'number' ? info['mileage'] : 0;
    const history = (info['service_history'] as Record<string, unknown>[] | undefined) ?? [];
    const last = lastServices(history);
    const upcoming: (Record<string, unknown> & { priority: Priority; days: number })[] = [];
    const overdue: (Record<string, unknown> & { priority: Priority; days: number })[] = [];
    for (const service of SERVICES) {
      const done = last.get(service.type) ?? { mileage: 0, date: null };
      const dueMileage = done.mileage + service.miles;
      const span = service.months * MONTH_DAYS * DAY_MS;
      const upcomingDue = done.date !== null ? done.date + span : today + span;
      const milesToDue = dueMileage - current;
      const daysToDue = daysBetween(today, upcomingDue);
      if ((milesToDue > 0 && milesToDue <= 5000) || (daysToDue > 0 && daysToDue <= 180)) {
        upcoming.push({
          service_type: service.type,
          due_mileage: dueMileage,
          due_date: dateText(upcomingDue),
          priority: service.priority,
          estimated_cost: service.cost,
          miles_until_due: milesToDue,
          days_until_due: daysToDue,
          days: daysToDue,
        });
      }
      // Without a date, the seed counts the interval back from today: never serviced is overdue.
      const overdueDue = done.date !== null ? done.date + span : today - span;
      const milesOver = current - dueMileage;
      const daysOver = daysBetween(overdueDue, today);
      if (milesOver > 0 || daysOver > 0) {
        let priority = service.priority;
        if (daysOver > 180 || milesOver > 10000) priority = 'urgent';
        else if ((daysOver > 90 || milesOver > 5000) && RANK[priority] >= RANK.medium) {
          priority = 'high';
        }
        overdue.push({
          service_type: service.type,
          overdue_by_miles: Math.max(0, milesOver),
          overdue_by_days: Math.max(0, daysOver),
          priority,
          estimated_cost: service.cost,
          due_mileage: dueMileage,
          due_date: dateText(overdueDue),
          days: daysOver,
        });
      }
    }
    upcoming.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.days - b.days);
    overdue.sort((a, b) => RANK[a.priority] - RANK[b.priority] || b.days - a.days);
    const total = [...upcoming, ...overdue].reduce(
      (sum, row) => sum + Number(row.estimated_cost),
      0,
    );
    const strip = ({ days: _days, ...row }: Record<string, unknown>) => row;
    return {
      maintenance_schedule: {
        upcoming_services: upcoming.map(strip),
        overdue_services: overdue.map(strip),
        total_estimated_cost: round2(total),
      },
      vehicle_info: {
        make: info['make'] ?? null,
        model: info['model'] ?? null,
        year: info['year'] ?? null,
        mileage: current,
        current_mileage: current,
      },
      services_analyzed: SERVICES.length,
      status: 'completed',
    };
  },
};
