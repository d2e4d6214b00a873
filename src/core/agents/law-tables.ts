/**
 * The law agent's local tables (shared/seed/agents.md §1 law_agent): domain keywords in
 * declaration order, and the numeric tables (success rate, timeline days, base cost) for the
 * domains that have their own row; every other domain takes the default row.
 */

/** Domains and their keywords, in the seed's declaration order (ties go to the first). */
export const DOMAIN_KEYWORDS: readonly (readonly [string, readonly string[]])[] = [
  ['tenant_rights', ['rent', 'landlord', 'tenant', 'eviction', 'lease']],
  ['employment_law', ['job', 'termination', 'fired', 'workplace', 'salary', 'contract']],
  ['family_law', ['divorce', 'child custody', 'marriage', 'alimony', 'adoption']],
  ['consumer_protection', ['warranty', 'refund', 'consumer', 'purchase', 'defective']],
  ['criminal_law', ['arrest', 'police', 'criminal', 'charge', 'court']],
  ['civil_rights', ['discrimination', 'rights', 'constitution', 'freedom']],
  ['immigration_law', ['visa', 'immigration', 'citizenship', 'green card']],
  ['business_law', ['contract', 'business', 'partnership', 'corporation']],
  // "IP" and "IRS" were upper case in the seed, so a lower-cased query never matched them: they
  // are matched here as whole words (as substrings, "ip" would match "relationship").
  ['intellectual_property', ['copyright', 'patent', 'trademark', 'ip']],
  ['environmental_law', ['environment', 'pollution', 'regulation', 'compliance']],
  ['tax_law', ['tax', 'irs', 'income tax', 'deduction']],
  ['bankruptcy_law', ['bankruptcy', 'debt', 'creditor', 'chapter']],
];

/** Keywords matched as whole words rather than substrings. */
export const WHOLE_WORDS: ReadonlySet<string> = new Set(['ip', 'irs']);

export interface DomainNumbers {
  readonly successRate: number;
  readonly days: readonly [number, number];
  readonly cost: readonly [number, number];
}

const row = (successRate: number, days: [number, number], cost: [number, number]) => ({
  successRate,
  days,
  cost,
});

export const DEFAULT_NUMBERS: DomainNumbers = row(0.6, [30, 180], [1000, 5000]);

export const NUMBERS: Readonly<Record<string, DomainNumbers>> = {
  tenant_rights: row(0.7, [30, 90], [500, 2000]),
  employment_law: row(0.6, [60, 180], [2000, 10000]),
  family_law: row(0.65, [90, 365], [3000, 15000]),
  criminal_law: row(0.5, [30, 730], [5000, 25000]),
  civil_rights: row(0.55, [90, 365], [3000, 20000]),
  business_law: row(0.75, [30, 180], [2000, 50000]),
  tax_law: row(0.8, [60, 365], [1000, 10000]),
};

export interface DomainTexts {
  readonly route: string;
  readonly steps: readonly string[];
  readonly glossary: Readonly<Record<string, string>>;
  readonly articles: readonly string[];
  readonly alternatives: readonly string[];
  readonly documents: readonly string[];
}

export const DEFAULT_TEXTS: DomainTexts = {
  route: 'Consult a licensed lawyer for a first assessment',
  steps: ['Write down the facts and dates', 'Gather the documents', 'Consult a lawyer'],
  glossary: { jurisdiction: 'the authority of a court over a case' },
  articles: [],
  alternatives: ['Mediation', 'Legal aid clinic'],
  documents: ['Identity document', 'Correspondence about the matter'],
};

export const TEXTS: Readonly<Record<string, DomainTexts>> = {
  tenant_rights: {
    route: 'Send a written notice to the landlord, then file with the rent tribunal',
    steps: ['Review the lease', 'Send a written notice', 'File with the rent tribunal'],
    glossary: { eviction: 'the legal removal of a tenant', lease: 'the rental contract' },
    articles: ['Article 21 (right to shelter as part of life)'],
    alternatives: ['Negotiation with the landlord', 'Mediation'],
    documents: ['Lease agreement', 'Rent receipts', 'Notices exchanged'],
  },
  employment_law: {
    route: 'Raise a grievance with the employer, then file with the labour authority',
    steps: ['Collect the employment records', 'Raise a written grievance', 'File a complaint'],
    glossary: { termination: 'the end of employment', 'wrongful dismissal': 'unlawful firing' },
    articles: ['Article 19(1)(g) (right to practise any profession)'],
    alternatives: ['Conciliation', 'Settlement negotiation'],
    documents: ['Employment contract', 'Pay slips', 'Termination letter'],
  },
  family_law: {
    route: 'File a petition with the family court',
    steps: ['Consult a family lawyer', 'File the petition', 'Attend mediation and hearings'],
    glossary: { alimony: 'support paid to a former spouse', custody: 'care of a child' },
    articles: ['Article 15(3) (special provisions for women and children)'],
    alternatives: ['Family mediation', 'Collaborative settlement'],
    documents: ['Marriage certificate', 'Financial statements', "Children's records"],
  },
  criminal_law: {
    route: 'Engage a criminal defence lawyer at once',
    steps: ['Exercise the right to silence', 'Engage a lawyer', 'Prepare for the hearing'],
    glossary: { bail: 'release pending trial', charge: 'a formal accusation' },
    articles: ['Article 20 (protection in respect of conviction)', 'Article 22 (arrest)'],
    alternatives: ['Plea negotiation'],
    documents: ['Arrest memo or charge sheet', 'Identity document', 'Evidence'],
  },
};
