"""A fault rule must name an operation the emulator routes, or it would never fire."""

from __future__ import annotations

import pytest
import requests

from ossemu.emulator.routes import ROUTES

OPERATIONS = sorted({route.operation for route in ROUTES.values()})


def test_add_fault_with_an_unknown_operation_is_refused_listing_the_valid_ones(oss_emulator):
    with pytest.raises(ValueError, match="unknown operation 'NoSuchOp'") as refused:
        oss_emulator.add_fault(operation="NoSuchOp")
    assert ", ".join(OPERATIONS) in str(refused.value)
    assert requests.get(oss_emulator.url_for("/_ossemu/faults")).json() == []


def test_control_api_refuses_a_miscased_operation_with_a_400(oss_emulator):
    url = oss_emulator.url_for("/_ossemu/faults")
    response = requests.post(url, json={"operation": "Putobject"})
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith("unknown operation 'Putobject': must be one of ")
    assert "PutObject" in message and "UploadPart" in message
    assert requests.get(url).json() == []


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_routed_operation_is_accepted(oss_emulator, operation):
    rule = oss_emulator.add_fault(operation=operation)
    assert rule.operation == operation
