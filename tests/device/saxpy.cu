// y = a*x + y on the GPU for a million elements, checked element by element against the CPU.
// Inputs are small multiples of 0.5, so float arithmetic is exact and the comparison is equality.
// Plain C calls only: the program runs in environments with an older glibc than the build host.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

__global__ void saxpy(int n, float a, const float* x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

static int check(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return 0;
    printf("%s: %s\n", what, cudaGetErrorString(e));
    return 1;
}

int main() {
    const int n = 1 << 20;
    float* x = (float*)malloc(n * sizeof(float));
    float* y = (float*)malloc(n * sizeof(float));
    float* out = (float*)malloc(n * sizeof(float));
    for (int i = 0; i < n; ++i) {
        x[i] = (float)(i % 1000) * 0.5f;
        y[i] = (float)(i % 7) - 3.0f;
        out[i] = -12345.0f;  // poison: every element must be written back
    }
    int count = 0;
    cudaDeviceProp prop;
    if (check(cudaGetDeviceCount(&count), "cudaGetDeviceCount") ||
        check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties"))
        return 1;
    float *dx = 0, *dy = 0;
    if (check(cudaMalloc((void**)&dx, n * sizeof(float)), "cudaMalloc") ||
        check(cudaMalloc((void**)&dy, n * sizeof(float)), "cudaMalloc") ||
        check(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
        check(cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy"))
        return 1;
    saxpy<<<(n + 255) / 256, 256>>>(n, 2.0f, dx, dy);
    if (check(cudaGetLastError(), "launch") || check(cudaDeviceSynchronize(), "kernel") ||
        check(cudaMemcpy(out, dy, n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy"))
        return 1;
    int right = 0;
    for (int i = 0; i < n; ++i)
        if (out[i] == 2.0f * x[i] + y[i]) ++right;
    printf("saxpy on %s (%d GPU%s): %d of %d elements right\n", prop.name, count,
           count == 1 ? "" : "s", right, n);
    return right == n ? 0 : 1;
}
