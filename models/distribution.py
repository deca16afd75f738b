"""A race's finishing order as a distribution: every position, podium, points, DNF and
head-to-heads, consistent with the winner model.

The model (chosen on the 2006–2013 development window, docs/MODELS.md):
- Each entrant is classified with probability 1 − q (q from the DNF model, models/dnf.py).
- Among those classified, the winner is drawn Plackett–Luce with strengths s, and the places
  after it Plackett–Luce with strengths s^α (α < 1: the order behind the winner is less certain
  than who wins; α is chosen on the development window by the ranked probability score).
  Those not classified follow, in random order (the official order ranks them by laps run).
- The strengths are fitted per race so that P(win) equals the winner model's probability
  (within the Monte Carlo error): the winner model stays the tuned, calibrated, promoted
  source of P(win), and everything else is built around it rather than beside it.

Everything is read off `draws` simulated orders, drawn with a fixed seed, so each race's
answers are reproducible and consistent by construction: per driver, the position
probabilities plus P(DNF) sum to 1; Σ P(win) = 1; Σ_d P(d finishes k-th) = P(position k is
classified); P(win) ≤ P(podium) ≤ P(top 6) ≤ P(points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec.points import PointsSystem

DRAWS = 20_000
SEED = 20_06
FIT_STEPS = 60
FIT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Distribution:
    """One race's finishing-order distribution over its `n` entrants (in input order)."""

    position: np.ndarray  # (n, n): P(driver i is classified k-th), k = 1…n
    dnf: np.ndarray  # (n,): P(driver i is not classified)
    ahead: np.ndarray  # (n, n): P(i finishes ahead of j) in the full order (DNFs last)
    points_table: np.ndarray  # (n,): points for positions 1…n under the season's system
    paying: int  # positions that score

    @property
    def win(self) -> np.ndarray:
        return self.position[:, 0]

    def top(self, k: int) -> np.ndarray:
        """P(finishing in the top k)."""
        return self.position[:, : min(k, self.position.shape[1])].sum(axis=1)

    @property
    def podium(self) -> np.ndarray:
        return self.top(3)

    @property
    def top6(self) -> np.ndarray:
        return self.top(6)

    @property
    def points(self) -> np.ndarray:
        """P(finishing in a paying position)."""
        return self.top(self.paying)

    @property
    def expected_points(self) -> np.ndarray:
        """Expected points from the finishing position (the fastest-lap point left out)."""
        return self.position @ self.points_table

    @property
    def classified(self) -> np.ndarray:
        """(n,): P(position k is classified), k = 1…n."""
        return self.position.sum(axis=0)


def classified_draws(q: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """(draws, n) booleans: who is classified in each draw; a draw with nobody classified
    (a probability of Π q) keeps the entrant least likely to retire."""
    finishes = rng.random((draws, q.size)) >= q
    nobody = ~finishes.any(axis=1)
    finishes[nobody, int(np.argmin(q))] = True
    return finishes


def fit_strengths(p_win: np.ndarray, finishes: np.ndarray) -> np.ndarray:
    """Strengths s with mean over draws of s_i·F_i / Σ_j s_j·F_j = p_win_i (fixed point on the
    same draws, so the fit is smooth and exact for them)."""
    mask = finishes.astype(float)
    s = p_win.copy()
    for _ in range(FIT_STEPS):
        shares = mask * s / (mask @ s)[:, None]
        simulated = shares.mean(axis=0)
        if np.max(np.abs(simulated - p_win)) < FIT_TOLERANCE:
            break
        s = s * p_win / np.maximum(simulated, 1e-15)
        s /= s.sum()
    return s


def _gumbel(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Standard Gumbel noise as −log of Exp(1) draws (the same law as `rng.gumbel`, at a third
    of its cost)."""
    return -np.log(rng.standard_exponential(shape))


@dataclass(frozen=True)
class Draws:
    """Simulated finishing orders of one race: who is classified, and each entrant's place in
    the full order (0 = winner; the non-classified after every classified car)."""

    finishes: np.ndarray  # (draws, n) bool
    rank: np.ndarray  # (draws, n) int

    def positions(self) -> np.ndarray:
        """(draws, n): the classified position 1…n, or 0 when not classified."""
        return np.where(self.finishes, self.rank + 1, 0)


def sample(
    p_win: np.ndarray,
    q_dnf: np.ndarray,
    alpha: float = 1.0,
    draws: int = DRAWS,
    rng: np.random.Generator | None = None,
) -> Draws:
    """`draws` finishing orders of a race from its entrants' P(win) (summing to 1) and P(DNF);
    the strengths are fitted so that P(win) is the one given."""
    p = np.asarray(p_win, dtype=float)
    p = p / p.sum()
    # a driver cannot win more often than they finish
    q = np.clip(np.minimum(np.asarray(q_dnf, dtype=float), 1.0 - p), 0.0, 1.0)
    n = p.size
    rng = rng if rng is not None else np.random.default_rng(SEED)
    finishes = classified_draws(q, rng, draws)
    s = fit_strengths(p, finishes)
    log_s = np.log(np.maximum(s, 1e-300))
    winner = np.argmax(np.where(finishes, log_s + _gumbel(rng, (draws, n)), -np.inf), axis=1)
    key = np.where(finishes, alpha * log_s + _gumbel(rng, (draws, n)), 0.0)
    key = np.where(finishes, key + 1e6, rng.random((draws, n)))  # the classified first
    key[np.arange(draws), winner] = np.inf
    order = np.argsort(-key, axis=1)  # order[m, k]: the driver k-th in draw m
    rank = np.empty_like(order)
    rank[np.arange(draws)[:, None], order] = np.arange(n)[None, :]  # rank[m, i]: i's place
    return Draws(finishes, rank)


def distribution(
    p_win: np.ndarray,
    q_dnf: np.ndarray,
    system: PointsSystem,
    alpha: float = 1.0,
    draws: int = DRAWS,
    seed: int = SEED,
    last_round: bool = False,
) -> Distribution:
    """The distribution of one race from its entrants' P(win) (summing to 1) and P(DNF)."""
    sampled = sample(p_win, q_dnf, alpha, draws, np.random.default_rng(seed))
    finishes, rank = sampled.finishes, sampled.rank
    n = rank.shape[1]
    counted = np.where(finishes, rank, n)  # n: not classified
    cells = (np.arange(n)[None, :] * (n + 1) + counted).ravel()
    position = np.bincount(cells, minlength=n * (n + 1)).reshape(n, n + 1)[:, :n] / draws
    small = rank.astype(np.int8) if n < 128 else rank  # a quarter of the memory traffic
    ahead = (small[:, :, None] < small[:, None, :]).sum(axis=0, dtype=np.int32) / draws
    table = np.asarray(system.table(n, last_round), dtype=float)
    return Distribution(position, 1.0 - finishes.mean(axis=0), ahead, table, system.paying)
