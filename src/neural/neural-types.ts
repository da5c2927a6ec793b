/** The public types NeuralUCB and NeuralTS share: diagnostics, select and decide options, what a scoring step writes. */
import type { ThompsonScores } from '../models/exploration.js';
import type { DecideOptions, SelectOptions } from '../models/decisions.js';
import type { DelayedRewardCounts } from '../models/pending.js';
import type { Tensor } from '../core/tensor.js';

/** Counters and health of a NeuralUCB or NeuralTS model. */
export interface NeuralDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Rows held in the history now (at most historyLimit). */
  readonly historyRows: number;
  readonly trainRuns: number;
  readonly optimizerSteps: number;
  /** Mean of (f − r)²/2 over the last minibatch, before its step; null before any training. */
  readonly lastLoss: number | null;
  /** Number of parameters p. */
  readonly paramCount: number;
  readonly confidence: 'diagonal' | 'full';
  /** 'full': ‖Z·Z⁻¹ − I‖∞ at the last check (after any repair), or null. */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** 'full': times Z⁻¹ was rebuilt from Z. */
  readonly repairs: number;
  /** The decision stream: its seed and the step the next randomised or decide call draws from. */
  readonly decisions: { readonly seed: number; readonly step: number };
  /** What became of the decisions that waited for a reward. */
  readonly rewards: DelayedRewardCounts;
}

/** Options of a neural model's select: K arms a row (else B = 1), and the eligible ones. */
export interface NeuralSelectOptions extends SelectOptions {
  /** K, the arms of every row of armFeatures (B×K×dim). Default: one row of length/dim arms. */
  readonly arms?: number;
}

/** Options of a neural model's decide: as select, and the slate size k. */
export interface NeuralDecideOptions extends DecideOptions {
  readonly arms?: number;
}

/** What a scoring step writes: B×K scores to decide on, and for Thompson models their spread. */
export interface NeuralScores {
  readonly scores: Tensor;
  readonly thompson?: ThompsonScores;
}

/** What `evaluate` computes: the UCB f + ν·sqrt(gᵀZ⁻¹g/m), the mean f, or f with gᵀZ⁻¹g. */
export type NeuralEvaluation = 'ucb' | 'mean' | 'posterior';
