// Tests for the folded few-token attention (FoldedAttention.swift) against the plain composition
// on fresh random inputs: projections, per-head attention by its definition, output projection.

import SAM2Tensor
import Testing

@Suite struct FoldedAttentionTests {
    /// x [B, L, H·d] → [B, H, L, d]
    private func heads(_ x: Tensor, _ h: Int) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], h, x.shape[2] / h]).permuted([0, 2, 1, 3])
    }

    /// [B, H, L, d] → [B, L, H·d]
    private func merged(_ x: Tensor) -> Tensor {
        x.permuted([0, 2, 1, 3]).reshaped([x.shape[0], x.shape[2], x.shape[1] * x.shape[3]])
    }

    @Test(arguments: [(1, 8, true), (3, 7, false), (2, 5, true)])
    func keyValueFoldingMatchesPlain(batch: Int, tokens: Int, sharedImage: Bool) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let (h, d, c, n) = (4, 8, 48, 300)
        let query = randomTensor([batch, tokens, h * d], &rng, low: -2, high: 2)
        let keys = randomTensor([sharedImage ? 1 : batch, n, c], &rng, low: -2, high: 2)
        let values = randomTensor([sharedImage ? 1 : batch, n, c], &rng)
        let (wk, bk, wv, bv) = (
            randomTensor([h * d, c], &rng), randomTensor([h * d], &rng), randomTensor([h * d, c], &rng),
            randomTensor([h * d], &rng)
        )
        let k = Plain.linear(keys, weight: wk, bias: bk).expanded(to: batch, axis: 0)
        let v = Plain.linear(values, weight: wv, bias: bv).expanded(to: batch, axis: 0)
        let want = merged(Plain.attention(query: heads(query, h), key: heads(k, h), value: heads(v, h), scale: nil))
        let got = foldedKeyValueAttention(
            query: query, heads: h, keyWeight: wk, valueWeight: wv, valueBias: bv, keys: keys, values: values)
        expectClose(got, want, 1e-5, "seed \(seed)")
    }

    @Test(arguments: [(1, 8, 300, false), (2, 6, 1100, false), (2, 6, 300, true), (1, 9, 1100, true)])
    func queryOutputFoldingMatchesPlain(batch: Int, tokens: Int, n: Int, queryProjected: Bool) {
        let seed = freshSeed()
        var rng = SeededGenerator(seed: seed)
        let (h, d, c) = (4, 8, 48)
        let image = randomTensor([1, n, c], &rng, low: -2, high: 2)
        let keys = randomTensor([batch, tokens, h * d], &rng, low: -2, high: 2)
        let values = randomTensor([batch, tokens, h * d], &rng)
        let (wq, bq, wo, bo) = (
            randomTensor([h * d, c], &rng), randomTensor([h * d], &rng), randomTensor([c, h * d], &rng),
            randomTensor([c], &rng)
        )
        let q = Plain.linear(image, weight: wq, bias: bq)
        let attended = Plain.attention(
            query: heads(q.expanded(to: batch, axis: 0), h), key: heads(keys, h), value: heads(values, h), scale: nil)
        let want = Plain.linear(merged(attended), weight: wo, bias: bo)
        let got = foldedQueryOutputAttention(
            queries: queryProjected ? nil : image, projectedQuery: queryProjected ? q : nil, queryWeight: wq,
            queryBias: bq, heads: h, keys: keys, values: values, outputWeight: wo, outputBias: bo)
        expectClose(got, want, 1e-5, "seed \(seed)")
    }

    @Test func foldingPaysForFewTokensOnly() {
        // The mask decoder: 8 heads, 128 wide, 256 channels; break-even at 17 tokens.
        #expect(foldedAttentionPays(tokens: 8, heads: 8, width: 128, channels: 256))
        #expect(foldedAttentionPays(tokens: 17, heads: 8, width: 128, channels: 256))
        #expect(!foldedAttentionPays(tokens: 18, heads: 8, width: 128, channels: 256))
        // One head: always.
        #expect(foldedAttentionPays(tokens: 200, heads: 1, width: 256, channels: 256))
    }
}
