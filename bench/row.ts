/** One benchmark measurement. Every bench module returns a list of these. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
