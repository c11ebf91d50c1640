// Small dense linear algebra for the latency model: sample mean and covariance, Cholesky
// factorization and solves, and a symmetric eigendecomposition, on row-major Float64Array
// matrices. The systems here are tiny (at most a few hundred unknowns), so plain loops are faster
// than any dependency and keep the math in one readable place.

/** A square row-major matrix of side `n`. */
export interface SquareMatrix {
  readonly n: number;
  readonly data: Float64Array;
}

export function squareMatrix(n: number, data?: Float64Array): SquareMatrix {
  return { n, data: data ?? new Float64Array(n * n) };
}

/**
 * Mean and sample covariance (divided by count - 1) of `vectors`, each of length `d`. The upper
 * triangle is accumulated and mirrored: this is the largest cost of a latency-model fit.
 */
export function meanAndCovariance(
  vectors: readonly ArrayLike<number>[],
  d: number,
): { mean: Float64Array; covariance: SquareMatrix } {
  const count = vectors.length;
  const mean = new Float64Array(d);
  for (const w of vectors) for (let j = 0; j < d; j++) mean[j] = mean[j]! + w[j]! / count;
  const covariance = squareMatrix(d);
  const data = covariance.data;
  const centred = new Float64Array(d);
  for (const w of vectors) {
    for (let j = 0; j < d; j++) centred[j] = w[j]! - mean[j]!;
    for (let i = 0; i < d; i++) {
      const di = centred[i]! / (count - 1);
      if (di === 0) continue;
      const row = i * d;
      for (let j = i; j < d; j++) data[row + j] = data[row + j]! + di * centred[j]!;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) data[i * d + j] = data[j * d + i]!;
  return { mean, covariance };
}

/**
 * Lower Cholesky factor of a symmetric positive definite matrix. Adds growing diagonal jitter
 * when rounding makes the matrix look indefinite, because a covariance built from samples can be
 * singular along directions the data never explored.
 */
export function cholesky(matrix: SquareMatrix): SquareMatrix {
  const { n, data } = matrix;
  let trace = 0;
  for (let i = 0; i < n; i++) trace += data[i * n + i]!;
  const scale = trace > 0 ? trace / n : 1;
  for (let attempt = 0; attempt < 8; attempt++) {
    const jitter = attempt === 0 ? 0 : scale * 1e-12 * 100 ** attempt;
    const factor = tryCholesky(matrix, jitter);
    if (factor) return factor;
  }
  throw new RangeError(`matrix of side ${n} is not positive definite, even with diagonal jitter`);
}

function tryCholesky(matrix: SquareMatrix, jitter: number): SquareMatrix | undefined {
  const { n, data } = matrix;
  const lower = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = data[i * n + j]! + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) sum -= lower[i * n + k]! * lower[j * n + k]!;
      if (i === j) {
        if (!(sum > 0)) return undefined;
        lower[i * n + i] = Math.sqrt(sum);
      } else {
        lower[i * n + j] = sum / lower[j * n + j]!;
      }
    }
  }
  return { n, data: lower };
}

/** Solves L x = b in place of a copy (forward substitution). */
export function solveLower(lower: SquareMatrix, b: ArrayLike<number>): Float64Array {
  const { n, data } = lower;
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let sum = x[i]!;
    for (let k = 0; k < i; k++) sum -= data[i * n + k]! * x[k]!;
    x[i] = sum / data[i * n + i]!;
  }
  return x;
}

/** Solves Lᵀ x = b (back substitution). */
export function solveUpper(lower: SquareMatrix, b: ArrayLike<number>): Float64Array {
  const { n, data } = lower;
  const x = Float64Array.from(b);
  for (let i = n - 1; i >= 0; i--) {
    let sum = x[i]!;
    for (let k = i + 1; k < n; k++) sum -= data[k * n + i]! * x[k]!;
    x[i] = sum / data[i * n + i]!;
  }
  return x;
}

/** Solves A x = b given A's Cholesky factor. */
export function choleskySolve(lower: SquareMatrix, b: ArrayLike<number>): Float64Array {
  return solveUpper(lower, solveLower(lower, b));
}

/** y = A x for a square A. */
export function multiply(matrix: SquareMatrix, x: ArrayLike<number>): Float64Array {
  const { n, data } = matrix;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += data[i * n + k]! * x[k]!;
    y[i] = sum;
  }
  return y;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, offsetA = 0, length = b.length): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += a[offsetA + i]! * b[i]!;
  return sum;
}

/**
 * Non-negative least squares (Lawson-Hanson active set): minimizes |A x - b| subject to x >= 0.
 * `rows` is a list of feature rows. Used by the naive baseline, which must not learn negative costs.
 */
export function nonNegativeLeastSquares(
  rows: readonly ArrayLike<number>[],
  b: ArrayLike<number>,
): Float64Array {
  const m = rows.length;
  const n = m === 0 ? 0 : rows[0]!.length;
  const x = new Float64Array(n);
  const passive = new Array<boolean>(n).fill(false);
  const residual = (): Float64Array => {
    const r = new Float64Array(m);
    for (let i = 0; i < m; i++) r[i] = b[i]! - dot(rows[i]!, x);
    return r;
  };
  const solvePassive = (): Float64Array => {
    const index = passive.flatMap((p, j) => (p ? [j] : []));
    const k = index.length;
    const gram = squareMatrix(k);
    const rhs = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      const row = rows[i]!;
      for (let a = 0; a < k; a++) {
        rhs[a] = rhs[a]! + row[index[a]!]! * b[i]!;
        for (let c = 0; c < k; c++)
          gram.data[a * k + c] = gram.data[a * k + c]! + row[index[a]!]! * row[index[c]!]!;
      }
    }
    let trace = 0;
    for (let a = 0; a < k; a++) trace += gram.data[a * k + a]!;
    for (let a = 0; a < k; a++)
      gram.data[a * k + a] = gram.data[a * k + a]! + 1e-10 * (trace / Math.max(k, 1) + 1e-300);
    const solution = choleskySolve(cholesky(gram), rhs);
    const full = new Float64Array(n);
    index.forEach((j, a) => (full[j] = solution[a]!));
    return full;
  };
  for (let iteration = 0; iteration < 3 * n + 10; iteration++) {
    const r = residual();
    let best = -1;
    let bestGradient = 1e-12;
    for (let j = 0; j < n; j++) {
      if (passive[j]) continue;
      let gradient = 0;
      for (let i = 0; i < m; i++) gradient += rows[i]![j]! * r[i]!;
      if (gradient > bestGradient) {
        bestGradient = gradient;
        best = j;
      }
    }
    if (best < 0) break;
    passive[best] = true;
    for (let inner = 0; inner < n + 1; inner++) {
      const z = solvePassive();
      let step = 1;
      let blocking = false;
      for (let j = 0; j < n; j++) {
        if (passive[j] && z[j]! <= 0) {
          blocking = true;
          const denominator = x[j]! - z[j]!;
          if (denominator > 0) step = Math.min(step, x[j]! / denominator);
        }
      }
      if (!blocking) {
        x.set(z);
        break;
      }
      for (let j = 0; j < n; j++) {
        x[j] = x[j]! + step * (z[j]! - x[j]!);
        if (passive[j] && x[j]! <= 1e-15) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
  }
  return x;
}

/** Eigenvalues and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: SquareMatrix): { values: Float64Array; vectors: SquareMatrix } {
  const n = matrix.n;
  const a = Float64Array.from(matrix.data);
  const v = squareMatrix(n);
  for (let i = 0; i < n; i++) v.data[i * n + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    let diagonal = 0;
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j]! ** 2;
    }
    if (off <= 1e-22 * diagonal) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - sn * akq;
          a[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - sn * aqk;
          a[q * n + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v.data[k * n + p]!;
          const vkq = v.data[k * n + q]!;
          v.data[k * n + p] = c * vkp - sn * vkq;
          v.data[k * n + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

/** The product of two square row-major matrices of side d. */
export function multiplyMatrices(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + aik * b[k * d + j]!;
    }
  }
  return out;
}
