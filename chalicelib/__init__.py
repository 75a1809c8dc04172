"""Relais: share- and referral-tracking backend for crowdfunding."""
