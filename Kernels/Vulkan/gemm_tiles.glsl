// The tiled GEMM shared by conv_gemm.comp and linear_gemm.comp: C[M, N] = A[M, K] B[K, N].
// A 16 x 16 workgroup computes a 64 x 64 tile of C, each thread a 4 x 4 block
// (rows ty + 16 i, columns tx + 16 j); K advances 16 at a time through tiles of A and B
// staged in shared memory, so each loaded value is used 64 times.
//
// The including shader defines, before including this file:
//   float loadA(int m, int k); float loadB(int k, int n); (0 outside the matrices)
//   void storeC(int m, int n, float value);
//   B_CONTIGUOUS_IN_K: 1 when B's consecutive k are adjacent in memory (linear's
//   weight), 0 when consecutive n are (conv's im2col rows): which way the threads
//   walk while loading B, so neighbouring threads read neighbouring addresses.
// and calls gemmTile(M, N, K, tileRow0, tileCol0).

layout(local_size_x = 16, local_size_y = 16) in;

// [k][m] and [k][n]; +1 column of padding avoids bank conflicts on the transposed store.
shared float tileA[16][65];
shared float tileB[16][65];

void gemmTile(int M, int N, int K, int row0, int col0) {
    int tx = int(gl_LocalInvocationID.x), ty = int(gl_LocalInvocationID.y);
    int thread = ty * 16 + tx;
    // Row ty + 16 i of the block in acc[i], columns tx + 16 j in its components
    // (vectors rather than a 4 x 4 array, which compilers may keep in memory).
    vec4 acc[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (int k0 = 0; k0 < K; k0 += 16) {
        // 1024 values of each tile, 4 per thread.
        for (int r = 0; r < 4; r++) {
            int e = thread + 256 * r;
            // A: 64 rows of 16 k (A's rows are contiguous in k).
            int am = e / 16, ak = e % 16;
            int m = row0 + am, k = k0 + ak;
            tileA[ak][am] = (m < M && k < K) ? loadA(m, k) : 0.0;
#if B_CONTIGUOUS_IN_K
            int bn = e / 16, bk = e % 16;
#else
            int bk = e / 64, bn = e % 64;
#endif
            int n = col0 + bn, kb = k0 + bk;
            tileB[bk][bn] = (n < N && kb < K) ? loadB(kb, n) : 0.0;
        }
        barrier();
        for (int kk = 0; kk < 16; kk++) {
            vec4 b = vec4(tileB[kk][tx], tileB[kk][tx + 16], tileB[kk][tx + 32], tileB[kk][tx + 48]);
            acc[0] += tileA[kk][ty] * b;
            acc[1] += tileA[kk][ty + 16] * b;
            acc[2] += tileA[kk][ty + 32] * b;
            acc[3] += tileA[kk][ty + 48] * b;
        }
        barrier();
    }
    for (int i = 0; i < 4; i++) {
        int m = row0 + ty + 16 * i;
        if (m >= M) continue;
        for (int j = 0; j < 4; j++) {
            int n = col0 + tx + 16 * j;
            if (n < N) storeC(m, n, acc[i][j]);
        }
    }
}
