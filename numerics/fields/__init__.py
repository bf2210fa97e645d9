"""Fields F(t, x) = sum_i f_i(t, x) behind one contract (:mod:`numerics.fields.base`).

* :class:`NeuralField`, :class:`PiecewiseNeuralField`, :class:`SmoothNeuralField` --
  the single-layer neural ODE (THEORY.md section 9);
* :class:`LinearField` -- f_i(x) = A_i x + c_i, exact moments (section 10);
* :class:`ConstantField` -- f_i(t, x) = c_i(t), exact E|e(T)|^2 = h Lambda(T) (section 10).
"""
from numerics.fields.base import Field, Grouped, weighted_neuron_sum
from numerics.fields.constant import ConstantField
from numerics.fields.linear import LinearField
from numerics.fields.neural import (
    NeuralField,
    NeuralParameters,
    PiecewiseNeuralField,
    SingleLayerField,
    SmoothNeuralField,
)

__all__ = [
    "ConstantField",
    "Field",
    "Grouped",
    "LinearField",
    "NeuralField",
    "NeuralParameters",
    "PiecewiseNeuralField",
    "SingleLayerField",
    "SmoothNeuralField",
    "weighted_neuron_sum",
]
