"""The same training step as benches/train_step.rs, in PyTorch, for a side-by-side figure.

20 linear layers (2 -> 64 -> ... -> 64 -> 2), sigmoid, naive init, batch 256, plain SGD,
and the per-layer weight-gradient norms read back in one transfer each step.
Run in a throwaway venv (not a test dependency):  python3 torch_step.py [--threads 2]
"""
import argparse
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    dims = [2] + [64] * 19 + [2]
    layers = []
    for fan_in, fan_out in zip(dims, dims[1:]):
        layer = torch.nn.Linear(fan_in, fan_out)
        bound = 1.0 / fan_in**0.5
        torch.nn.init.uniform_(layer.weight, -bound, bound)
        torch.nn.init.zeros_(layer.bias)
        layers += [layer, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(1024, 2)
    y = torch.randint(0, 2, (1024,))
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]

    def step() -> None:
        index = torch.randint(0, 1024, (256,))
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        torch.stack([w.grad.norm() for w in weights]).tolist()
        optimizer.step()

    for _ in range(50):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    print(f"torch {torch.__version__}, {args.threads} threads: {steps / elapsed:.1f} steps/s "
          f"({1e3 * elapsed / steps:.3f} ms/step)")


if __name__ == "__main__":
    main()
