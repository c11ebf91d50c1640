// log|det| of the small symmetric matrices NASWOT produces, in float64.

/**
 * Natural log of |det(matrix)| for a row-major n x n matrix: Cholesky when it is positive definite
 * (the NASWOT kernel almost always is), LU with partial pivoting otherwise. -Infinity when singular.
 */
export function logAbsDet(matrix: Float64Array, n: number): number {
  if (matrix.length !== n * n) throw new RangeError(`logAbsDet: ${matrix.length} values for ${n}x${n}`);
  return choleskyLogDet(matrix, n) ?? luLogAbsDet(matrix, n);
}

/** 2 * sum(log diag(L)), or undefined when a pivot is not positive. */
function choleskyLogDet(matrix: Float64Array, n: number): number | undefined {
  const l = new Float64Array(n * n);
  let logDet = 0;
  for (let j = 0; j < n; j++) {
    let diagonal = matrix[j * n + j]!;
    for (let k = 0; k < j; k++) diagonal -= l[j * n + k]! ** 2;
    if (!(diagonal > 0)) return undefined;
    const pivot = Math.sqrt(diagonal);
    l[j * n + j] = pivot;
    logDet += 2 * Math.log(pivot);
    for (let i = j + 1; i < n; i++) {
      let sum = matrix[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = sum / pivot;
    }
  }
  return logDet;
}

function luLogAbsDet(matrix: Float64Array, n: number): number {
  const a = Float64Array.from(matrix);
  let logDet = 0;
  for (let col = 0; col < n; col++) {
    let pivotRow = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(a[r * n + col]!) > Math.abs(a[pivotRow * n + col]!)) pivotRow = r;
    const pivot = a[pivotRow * n + col]!;
    if (pivot === 0) return Number.NEGATIVE_INFINITY;
    if (pivotRow !== col) {
      for (let k = 0; k < n; k++) {
        const t = a[col * n + k]!;
        a[col * n + k] = a[pivotRow * n + k]!;
        a[pivotRow * n + k] = t;
      }
    }
    logDet += Math.log(Math.abs(pivot));
    for (let r = col + 1; r < n; r++) {
      const factor = a[r * n + col]! / pivot;
      if (factor === 0) continue;
      for (let k = col; k < n; k++) a[r * n + k]! -= factor * a[col * n + k]!;
    }
  }
  return logDet;
}
