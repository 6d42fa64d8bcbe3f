"""Dynamics: trajectories, the step loop, the flow, minibatches and modified flows."""
